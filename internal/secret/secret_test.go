package secret

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSealOpen(t *testing.T) {
	t.Parallel()
	b, err := New("correct horse")
	require.NoError(t, err)
	sealed, err := b.Seal("auth-token-123")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(sealed, "v1:"))
	require.NotContains(t, sealed, "auth-token-123")
	again, err := b.Seal("auth-token-123")
	require.NoError(t, err)
	require.NotEqual(t, sealed, again, "a fresh nonce each time")
	plain, err := b.Open(sealed)
	require.NoError(t, err)
	require.Equal(t, "auth-token-123", plain)

	other, err := New("battery staple")
	require.NoError(t, err)
	_, err = other.Open(sealed)
	require.ErrorIs(t, err, ErrWrongKey)
	for _, bad := range []string{"plain", "v1:!!!", "v1:AAAA", sealed[:len(sealed)-2]} {
		_, err := b.Open(bad)
		require.Error(t, err, bad)
	}
	empty, err := b.Seal("")
	require.NoError(t, err)
	require.Empty(t, empty)
}

func TestKeyKeptInDataDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b1, err := FromSetting("", dir)
	require.NoError(t, err)
	sealed, err := b1.Seal("x")
	require.NoError(t, err)
	info, err := os.Stat(filepath.Join(dir, "secret.key"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	b2, err := FromSetting("", dir)
	require.NoError(t, err)
	plain, err := b2.Open(sealed)
	require.NoError(t, err, "a restart opens what was sealed before")
	require.Equal(t, "x", plain)
}
