package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCmd(t *testing.T, args ...string) error {
	t.Helper()
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(&bytes.Buffer{})
	return root.Execute()
}

// ATT-07: the CLI round-trips a file with a hex key and a UEM JSON key
// file, and leaves no output behind when decryption fails.
func TestATT07_AttachmentsCLI(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "report.pdf")
	data := bytes.Repeat([]byte("gatehouse "), 20000)
	if err := os.WriteFile(plain, data, 0o600); err != nil {
		t.Fatal(err)
	}
	hexKey := strings.Repeat("ab", 32)
	jsonKey := filepath.Join(dir, "key.json")
	// "q83v..." is 16 bytes of 0xab 0xcd 0xef ... in base64: a legacy key.
	if err := os.WriteFile(jsonKey, []byte(`{"id":"uem-3","algorithm":"AES-128-ECB","key":"q83vq83vq83vq83vq83vqw=="}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{hexKey, jsonKey} {
		enc, back := filepath.Join(dir, "enc"), filepath.Join(dir, "back")
		if err := runCmd(t, "attachments", "encrypt", "--key", key, "--in", plain, "--out", enc); err != nil {
			t.Fatal(err)
		}
		if err := runCmd(t, "attachments", "decrypt", "--key", key, "--in", enc, "--out", back); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(back)
		if !bytes.Equal(got, data) {
			t.Fatalf("key %s: round trip differs", key)
		}
		ct, _ := os.ReadFile(enc)
		if err := os.WriteFile(enc, ct[:len(ct)-10], 0o600); err != nil {
			t.Fatal(err)
		}
		failed := filepath.Join(dir, "failed")
		if err := runCmd(t, "attachments", "decrypt", "--key", key, "--in", enc, "--out", failed); err == nil {
			t.Fatal("truncated file decrypted")
		}
		if _, err := os.Stat(failed); !os.IsNotExist(err) {
			t.Fatal("partial output left behind")
		}
	}
}
