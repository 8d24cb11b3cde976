package devicecache

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// bucketPolicies holds the ActiveSync policy documents entries refer to
// by id, as opaque bytes (the UEM link encodes them), so that a gateway
// started with the UEM down provisions devices with their assigned policy,
// not the server's (DC-01: the list keeps each device's policy).
var bucketPolicies = []byte("policies")

// SavePolicy stores one policy document under id, in its own transaction
// (policies change rarely; a crash must not lose one a device was told
// to provision).
func (s *Store) SavePolicy(id string, doc []byte) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketPolicies)
		if err != nil {
			return err
		}
		return b.Put([]byte(id), doc)
	})
	if err != nil {
		return fmt.Errorf("devicecache: save policy %s: %w", id, err)
	}
	return nil
}

// Policies calls fn with every stored policy document.
func (s *Store) Policies(fn func(id string, doc []byte) error) error {
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPolicies)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error { return fn(string(k), v) })
	})
	if err != nil {
		return fmt.Errorf("devicecache: policies: %w", err)
	}
	return nil
}
