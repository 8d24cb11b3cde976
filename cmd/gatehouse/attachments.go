package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-lab/gatehouse/gateway/attachments"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// newAttachmentsCmd encrypts and decrypts attachments in the gateway's
// format (docs/attachment-format.md), for support and for demos.
func newAttachmentsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "attachments",
		Short: "Encrypt and decrypt email attachments in the gateway's attachment-control format",
	}
	var keyArg, keyID, in, out string
	addFlags := func(c *cobra.Command) {
		c.Flags().StringVar(&keyArg, "key", "", "attachment key: hex (32 or 64 digits) or a file holding hex, raw bytes or the UEM's JSON key")
		c.Flags().StringVar(&in, "in", "-", "input file, - for stdin")
		c.Flags().StringVarP(&out, "out", "o", "-", "output file, - for stdout; a file is written only when the whole input succeeded")
		_ = c.MarkFlagRequired("key")
	}
	enc := &cobra.Command{
		Use:   "encrypt",
		Short: "Encrypt a file as the gateway encrypts attachments (.attachctrl for 256-bit keys, .secure for 128-bit)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := loadKey(keyArg, keyID)
			if err != nil {
				return err
			}
			return withFiles(cmd, in, out, func(w io.Writer, r io.Reader) error {
				return attachments.EncryptStream(w, r, &k)
			})
		},
	}
	addFlags(enc)
	enc.Flags().StringVar(&keyID, "key-id", "", "key id written into the file (default: the JSON key's id, else \"cli\")")
	dec := &cobra.Command{
		Use:   "decrypt",
		Short: "Decrypt an attachment encrypted by the gateway (or by encrypt)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withFiles(cmd, in, out, func(w io.Writer, r io.Reader) error {
				// The file names its key id; the key given is used for it.
				h, hdr, err := attachments.ReadHeader(r)
				if err != nil {
					return err
				}
				k, err := loadKey(keyArg, h.KeyID)
				if err != nil {
					return err
				}
				k.ID = h.KeyID
				kr, err := attachments.NewKeyring(k)
				if err != nil {
					return err
				}
				return attachments.DecryptStream(w, io.MultiReader(bytes.NewReader(hdr), r), kr)
			})
		},
	}
	addFlags(dec)
	cmd.AddCommand(enc, dec)
	return cmd
}

// loadKey reads --key. The algorithm follows the key length: 32 bytes is
// AES-256-GCM, 16 bytes the legacy kind.
func loadKey(arg, id string) (attachments.Key, error) {
	var secret []byte
	jsonID := ""
	if b, err := hex.DecodeString(arg); err == nil && (len(b) == 16 || len(b) == 32) {
		secret = b
	} else {
		data, err := os.ReadFile(arg)
		if err != nil {
			return attachments.Key{}, fmt.Errorf("--key is neither 32/64 hex digits nor a readable file: %w", err)
		}
		var uk uemapi.AttachmentKey
		trimmed := strings.TrimSpace(string(data))
		switch {
		case strings.HasPrefix(trimmed, "{"):
			if err := json.Unmarshal(data, &uk); err != nil {
				return attachments.Key{}, fmt.Errorf("key file: %w", err)
			}
			secret, jsonID = uk.Key, uk.ID
		default:
			if b, err := hex.DecodeString(trimmed); err == nil {
				secret = b
			} else {
				secret = data
			}
		}
	}
	k := attachments.Key{ID: id, Secret: secret}
	if k.ID == "" {
		k.ID = jsonID
	}
	if k.ID == "" {
		k.ID = "cli"
	}
	switch len(secret) {
	case 32:
		k.Algorithm = uemapi.AES256GCM
	case 16:
		k.Algorithm = uemapi.AES128ECB
	default:
		return attachments.Key{}, fmt.Errorf("key must be 16 or 32 bytes, got %d", len(secret))
	}
	return k, k.Validate()
}

// withFiles runs fn from in to out. A named output is written to a
// temporary file renamed into place only on success, so a failed
// decryption leaves no partial plaintext behind.
func withFiles(cmd *cobra.Command, in, out string, fn func(io.Writer, io.Reader) error) (err error) {
	var r io.Reader = cmd.InOrStdin()
	if in != "-" {
		f, err := os.Open(in)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	if out == "-" {
		return fn(cmd.OutOrStdout(), r)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".gatehouse-attachment-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := fn(tmp, r); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return errors.Join(err, os.Remove(tmp.Name()))
	}
	return nil
}
