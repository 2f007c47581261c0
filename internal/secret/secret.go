// Package secret seals small secrets (carrier auth tokens) for storage with
// AES-256-GCM, so a copy of the database alone does not hand out an
// account's carrier credentials.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// sealedPrefix marks a sealed value and its format version.
const sealedPrefix = "v1:"

// Box seals and opens values with one key.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box whose key is derived from passphrase (any length).
func New(passphrase string) (*Box, error) {
	if passphrase == "" {
		return nil, errors.New("secret: empty key")
	}
	key := sha256.Sum256([]byte(passphrase))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	return &Box{aead: aead}, nil
}

// FromSetting returns a Box for the configured key, or, when none is set,
// for a key made once and kept in dataDir/secret.key. Processes that share
// a PostgreSQL database must share HERALD_SECRET_KEY.
func FromSetting(key, dataDir string) (*Box, error) {
	if key != "" {
		return New(key)
	}
	path := filepath.Join(dataDir, "secret.key")
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("secret: %w", err)
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("secret: %w", err)
		}
		raw = []byte(hex.EncodeToString(b))
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			return nil, fmt.Errorf("secret: keep key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("secret: read key: %w", err)
	}
	return New(strings.TrimSpace(string(raw)))
}

// Seal encrypts plaintext. Sealing "" gives "".
func (b *Box) Seal(plaintext string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("secret: %w", err)
	}
	out := b.aead.Seal(nonce, nonce, []byte(plaintext), nil)
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// ErrWrongKey is returned when a value was sealed with another key.
var ErrWrongKey = errors.New("secret: the value was sealed with another key (is HERALD_SECRET_KEY the same on every process?)")

// Open decrypts a value made by Seal.
func (b *Box) Open(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(sealed, sealedPrefix))
	if !strings.HasPrefix(sealed, sealedPrefix) || err != nil || len(raw) < b.aead.NonceSize() {
		return "", errors.New("secret: not a sealed value")
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", ErrWrongKey
	}
	return string(plain), nil
}
