// Package httpapi is the small toolkit every JSON API of gatehouse is built
// with: the fakes' admin and gateway-facing APIs and the gateway's admin
// API. One error shape, {"error":{"code":...,"message":...,"field":...}};
// strict, size-limited request decoding whose errors name the field;
// routing with Go 1.22 method patterns that answers unknown paths and
// methods in that shape; and Caller, the client side of such an API.
package httpapi
