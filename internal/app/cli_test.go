package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldsms/herald/internal/config"
	"github.com/heraldsms/herald/internal/user"
)

// herald runs a command against a data dir and returns its exit code and
// output.
func herald(t *testing.T, dataDir, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errs bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errs, Stdin: strings.NewReader(stdin), Getenv: func(k string) string {
		switch k {
		case "HERALD_DATA_DIR":
			return dataDir
		case "HERALD_SECRET_KEY":
			return "cli test"
		}
		return ""
	}}
	code := Main(context.Background(), args, env)
	return code, out.String(), errs.String()
}

func TestUserCreateCommand(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := herald(t, dir, "", "account", "create", "--name", "Acme", "--json")
	require.Equal(t, 0, code, errs)
	var acct struct {
		AccountID string `json:"account_id"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &acct))

	// Without --password a password is made and shown once.
	code, out, errs = herald(t, dir, "", "user", "create", "--account", acct.AccountID, "--email", "Ann@Acme.test",
		"--role", "editor", "--json")
	require.Equal(t, 0, code, errs)
	var made map[string]string
	require.NoError(t, json.Unmarshal([]byte(out), &made))
	require.Equal(t, "ann@acme.test", made["email"])
	require.Equal(t, "editor", made["role"])
	require.GreaterOrEqual(t, len(made["password"]), user.MinPassword)

	// --password - reads it from stdin, and it is not printed.
	code, out, errs = herald(t, dir, "a long enough password\n", "user", "create", "--email", "op@herald.test",
		"--role", "operator", "--password", "-")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "op@herald.test")
	require.NotContains(t, out, "a long enough password")

	a := openDir(t, dir)
	u, err := a.Users.Authenticate(context.Background(), "ann@acme.test", made["password"])
	require.NoError(t, err)
	require.Equal(t, acct.AccountID, u.AccountID)
	_, err = a.Users.Authenticate(context.Background(), "op@herald.test", "a long enough password")
	require.NoError(t, err)
	require.NoError(t, a.Close())

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--account", acct.AccountID, "--email", "x@acme.test", "--role", "owner"}, "role must be one of"},
		{[]string{"--email", "x@acme.test", "--role", "viewer"}, "the operator belongs to no account"},
		{[]string{"--account", acct.AccountID, "--email", "not an email", "--role", "viewer"}, "enter an email address"},
		{[]string{"--account", acct.AccountID, "--email", "ann@acme.test", "--role", "viewer"}, "exists"},
		{[]string{"--account", acct.AccountID, "--email", "y@acme.test", "--role", "viewer", "--password", "short"}, "at least 12"},
		{[]string{"--account", "acc_nope", "--email", "z@acme.test", "--role", "viewer"}, "no account"},
	} {
		code, _, errs := herald(t, dir, "", append([]string{"user", "create"}, tc.args...)...)
		require.Equal(t, 1, code, tc.args)
		require.Contains(t, errs, tc.want, tc.args)
	}
}

func TestDemoPrintsAWorkingSignIn(t *testing.T) {
	dir := t.TempDir()
	a := openDir(t, dir)
	defer a.Close()
	ctx := context.Background()
	signIns := func() map[string]string {
		var out bytes.Buffer
		require.NoError(t, a.announceDemo(ctx, &out))
		got := map[string]string{}
		for _, m := range regexp.MustCompile(`(marketer|operator): (\S+)  password (\S+)`).FindAllStringSubmatch(out.String(), -1) {
			got[m[2]] = m[3]
		}
		require.Len(t, got, 2, out.String())
		return got
	}
	first := signIns()
	for email, pw := range first {
		_, err := a.Users.Authenticate(ctx, email, pw)
		require.NoError(t, err, email)
	}
	// A restart prints fresh passwords; the old ones stop working.
	second := signIns()
	for email, pw := range second {
		require.NotEqual(t, first[email], pw)
		_, err := a.Users.Authenticate(ctx, email, pw)
		require.NoError(t, err, email)
		_, err = a.Users.Authenticate(ctx, email, first[email])
		require.ErrorIs(t, err, user.ErrBadCredentials, email)
	}
}

func openDir(t *testing.T, dir string) *App {
	t.Helper()
	cfg := config.Config{Addr: "127.0.0.1:0", PublicURL: "http://127.0.0.1:1", DataDir: dir, SecretKey: "cli test",
		Simulator: true, LogLevel: "error", LogFormat: "text"}
	a, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)),
		WithUsers(user.WithCost(user.Cost{MemoryKiB: 1024, Passes: 1})))
	require.NoError(t, err)
	return a
}
