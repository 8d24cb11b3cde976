// Package containers is the home of gatehouse's Testcontainers modules
// (layer 2 drivers, in the style of testcontainers-go's own modules): one
// package per server, each with Run(ctx, image, opts...), functional
// options and a typed container with endpoint accessors:
//
//	containers/uem       the fake UEM
//	containers/exchange  the fake Exchange ActiveSync server
//	containers/gateway   the reference gateway
//	containers/kdc       the fake Kerberos KDC
//	containers/dns       the fake DNS server
//	containers/labstack  a connected UEM + Exchange + gateway on one network,
//	                     returning the endpoints package lab returns
//
// Every module runs the one gatehouse image (default DefaultImage, built by
// ci/image-build.sh) with a different subcommand. Their tests need Docker
// and carry the build tag "containers"; see docs/containers.md.
package containers

// DefaultImage is the image ci/image-build.sh builds.
const DefaultImage = "gatehouse:dev"
