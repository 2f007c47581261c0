package app_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestKillNineLosesNothing builds herald, runs it against a carrier
// simulator in a process of its own, kills herald with SIGKILL while a
// batch is being sent, starts it again, and checks every accepted message
// reached a handset: none lost, and no more sent twice than were in flight.
func TestKillNineLosesNothing(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "herald")
	build := exec.Command("go", "build", "-o", bin, "github.com/heraldsms/herald/cmd/herald")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	heraldAddr, simAddr := freeAddr(t), freeAddr(t)
	heraldURL, simURL := "http://"+heraldAddr, "http://"+simAddr
	simProc := start(t, bin, "sim", "--addr", simAddr, "--delay", "0s", "--inbound-url", heraldURL+"/webhooks/twilio/inbound")
	t.Cleanup(func() { _ = simProc.Process.Kill(); _, _ = simProc.Process.Wait() })
	env := []string{"HERALD_DATA_DIR=" + filepath.Join(dir, "data"), "HERALD_ADDR=" + heraldAddr, "HERALD_SIMULATOR=false",
		"HERALD_SECRET_KEY=kill test", "HERALD_LOG_LEVEL=error"}

	var created struct{ AccountID, APIKey string }
	out := run(t, bin, env, "account", "create", "--name", "Acme", "--json")
	require.NoError(t, json.Unmarshal(out, &struct {
		AccountID *string `json:"account_id"`
		APIKey    *string `json:"api_key"`
	}{&created.AccountID, &created.APIKey}))
	var op struct {
		APIKey string `json:"api_key"`
	}
	require.NoError(t, json.Unmarshal(run(t, bin, env, "operator", "key", "--json"), &op))

	serve := startEnv(t, bin, env, "serve")
	waitReady(t, heraldURL)
	api := func(method, path, key string, body any) map[string]any {
		t.Helper()
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, heraldURL+path, bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		var m map[string]any
		data, _ := io.ReadAll(res.Body)
		require.Less(t, res.StatusCode, 300, "%s %s: %s", method, path, data)
		_ = json.Unmarshal(data, &m)
		return m
	}
	api("PUT", "/api/v1/operator/accounts/"+created.AccountID, op.APIKey, map[string]any{
		"sms_enabled": true, "monthly_limit": 100000,
		"twilio":  map[string]any{"account_sid": "AC" + strings.Repeat("4", 32), "auth_token": "tok", "base_url": simURL},
		"numbers": []map[string]any{{"phone": "+18885550100", "kind": "both", "mps": 10}},
	})
	tpl := api("POST", "/api/v1/templates", created.APIKey, map[string]any{"name": "Receipt", "kind": "transactional",
		"body": "Acme: order {{event.data.n}} shipped."})["id"].(string)
	api("POST", "/api/v1/templates/"+tpl+"/submit", created.APIKey, nil)
	api("POST", "/api/v1/operator/templates/"+tpl+"/approve", op.APIKey, map[string]any{})

	const n = 200
	handsets := make([]string, n)
	for i := range handsets {
		handsets[i] = fmt.Sprintf("+1415555%04d", i)
		c := api("POST", "/api/v1/contacts", created.APIKey, map[string]any{"phone": handsets[i], "sms_preference": "opted_in"})
		api("POST", "/api/v1/messages", created.APIKey, map[string]any{"contact_id": c["id"], "template_id": tpl,
			"data": map[string]any{"n": i}})
	}
	// At 10 a second the batch outlasts its creation; kill herald in the middle.
	time.Sleep(1500 * time.Millisecond)
	require.NoError(t, serve.Process.Signal(syscall.SIGKILL))
	_, _ = serve.Process.Wait()
	arrived := 0
	for _, h := range handsets {
		if len(inbox(t, simURL, h)) > 0 {
			arrived++
		}
	}
	require.Positive(t, arrived, "herald was killed while sending, not before")
	require.Less(t, arrived, n, "herald was killed while sending, not after")
	t.Logf("killed with %d of %d messages sent", arrived, n)

	serve = startEnv(t, bin, env, "serve")
	waitReady(t, heraldURL)
	got := map[string]int{}
	require.Eventually(t, func() bool {
		for _, h := range handsets {
			if got[h] > 0 {
				continue
			}
			got[h] = len(inbox(t, simURL, h))
		}
		for _, h := range handsets {
			if got[h] == 0 {
				return false
			}
		}
		return true
	}, 150*time.Second, 200*time.Millisecond, "every accepted message reaches its handset (a claim held by the dead process expires after a minute)")
	twice := 0
	for _, h := range handsets {
		if c := len(inbox(t, simURL, h)); c > 1 {
			twice++
		}
	}
	require.LessOrEqual(t, twice, 64, "no more sent twice than sends in flight when it died")
	t.Logf("killed mid-batch: %d of %d messages arrived twice", twice, n)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

func start(t *testing.T, bin string, args ...string) *exec.Cmd {
	return startEnv(t, bin, nil, args...)
}

func startEnv(t *testing.T, bin string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	dieWithTest(cmd)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	return cmd
}

func run(t *testing.T, bin string, env []string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	require.NoError(t, cmd.Run())
	line, _ := bufio.NewReader(&out).ReadBytes('\n')
	return line
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	require.Eventually(t, func() bool {
		res, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 20*time.Second, 50*time.Millisecond)
}

func inbox(t *testing.T, simURL, handset string) []any {
	t.Helper()
	res, err := http.Get(simURL + "/inbox?handset=" + url.QueryEscape(handset))
	require.NoError(t, err)
	defer res.Body.Close()
	var list []any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&list))
	return list
}
