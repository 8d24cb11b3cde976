//go:build !unix

package devicecache

import "os"

// mapFile reads the file at path (no mmap here); release does nothing.
func mapFile(path string) ([]byte, func(), error) {
	data, err := os.ReadFile(path)
	return data, func() {}, err
}
