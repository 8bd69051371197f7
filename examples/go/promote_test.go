package neonflow

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

const apiKey = "go-binding-key"
const project = "go-project"

// emulator is a private neonflow-emulator on an ephemeral loopback port.
type emulator struct {
	cmd       *exec.Cmd
	api, root string
}

func startEmulator(t *testing.T) *emulator {
	bin := os.Getenv("NEONFLOW_EMULATOR_BIN")
	if bin == "" {
		t.Fatal("set NEONFLOW_EMULATOR_BIN to the neonflow-emulator program")
	}
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", "0", "--api-key", apiKey,
		"--project-id", project, "--branch", "production", "--op-duration-ms", "20")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e := &emulator{cmd: cmd}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 1)
	go func() { // the emulator prints one line once it is ready
		line, _ := bufio.NewReader(out).ReadString('\n')
		lines <- line
	}()
	select {
	case line := <-lines:
		m := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)/api/v2`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("emulator did not start: %q", line)
		}
		e.root, e.api = m[1], m[1]+"/api/v2"
	case <-time.After(20 * time.Second):
		t.Fatal("emulator did not start within 20 s")
	}
	return e
}

// control calls one of the emulator's /__emulator/ routes.
func (e *emulator) control(t *testing.T, method, path string, body, into any) {
	var buf bytes.Buffer
	if body != nil {
		_ = json.NewEncoder(&buf).Encode(body)
	}
	req, _ := http.NewRequest(method, e.root+path, &buf)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	if into != nil {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			t.Fatal(err)
		}
	}
}

func (e *emulator) branchID(t *testing.T, name string) string {
	var state struct {
		Projects []struct {
			ID       string
			Branches []struct{ ID, Name string }
		}
	}
	e.control(t, "GET", "/__emulator/state", nil, &state)
	for _, p := range state.Projects {
		for _, b := range p.Branches {
			if p.ID == project && b.Name == name {
				return b.ID
			}
		}
	}
	return ""
}

func (e *emulator) write(t *testing.T, branch, content string) {
	id := e.branchID(t, branch)
	if id == "" {
		var made struct {
			BranchID string `json:"branch_id"`
		}
		e.control(t, "POST", "/__emulator/branches", map[string]any{
			"project_id": project, "name": branch, "with_rw_endpoint": true}, &made)
		id = made.BranchID
	}
	e.control(t, "POST", "/__emulator/write", map[string]string{
		"project_id": project, "branch_id": id, "content": content}, nil)
}

func (e *emulator) content(t *testing.T, branch string) string {
	var got struct{ Content string }
	e.control(t, "GET", "/__emulator/read?project_id="+project+"&branch_id="+e.branchID(t, branch), nil, &got)
	return got.Content
}

func TestPromoteAgainstEmulator(t *testing.T) {
	emu := startEmulator(t)
	emu.write(t, "production", "prod-v1")
	cl, err := NewClient(ClientOptions{APIKey: apiKey, BaseURL: emu.api})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	t.Logf("libneonflow %s, emulator %s", Version(), emu.api)

	rep, err := cl.Setup(RunOptions{ProjectID: project})
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	if rep.RunID == "" || rep.Result != 0 {
		t.Fatalf("setup report: %+v", rep)
	}
	emu.write(t, "dev", "dev-v2") // the change to promote
	oldProd := emu.branchID(t, "production")

	rep, err = cl.Promote(RunOptions{ProjectID: project, RunID: "go-run-1"}, PromoteOptions{Source: "dev", Target: "production"})
	if err != nil {
		t.Fatalf("promote: %v", err)
	}
	if rep.RunID != "go-run-1" || rep.Result != 0 || len(rep.Steps) == 0 || rep.APICalls <= 0 {
		t.Fatalf("promote report: %+v", rep)
	}
	for _, s := range rep.Steps {
		if s.Status != "done" && s.Status != "skipped" {
			t.Errorf("step %s is %s", s.Name, s.Status)
		}
	}
	if rep.LostWritesStart == "" || rep.LostWritesEnd == "" || rep.LostWritesStartMS <= 0 ||
		rep.LostWritesEndMS < rep.LostWritesStartMS {
		t.Errorf("lost-write window: %q..%q (%d..%d ms)", rep.LostWritesStart, rep.LostWritesEnd,
			rep.LostWritesStartMS, rep.LostWritesEndMS)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(rep.JSON), &doc); err != nil || doc["run_id"] != "go-run-1" {
		t.Errorf("report JSON: %v %v", err, doc["run_id"])
	}
	// The state: production holds dev's data on a new branch, the old one is the backup.
	if got := emu.content(t, "production"); got != "dev-v2" {
		t.Errorf("production holds %q, want dev-v2", got)
	}
	if rep.TargetBranchID != emu.branchID(t, "production") || rep.TargetBranchID == oldProd ||
		rep.OldTargetBranchID != oldProd || !strings.HasPrefix(rep.TargetEndpointID, "ep-") ||
		rep.BackupBranchName == "" || rep.RollbackSnapshotID == "" {
		t.Errorf("report ids: %+v (old production %s)", rep, oldProd)
	}
}

func TestErrorsCarryCodeNameMessage(t *testing.T) {
	emu := startEmulator(t)
	// No key and the environment option off: the library must not borrow NEON_API_KEY.
	t.Setenv("NEON_API_KEY", apiKey)
	if _, err := NewClient(ClientOptions{BaseURL: emu.api}); err == nil {
		t.Fatal("a client without a key was created")
	}
	cl, err := NewClient(ClientOptions{APIKey: apiKey, BaseURL: emu.api})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	_, err = cl.Promote(RunOptions{ProjectID: project}, PromoteOptions{Source: "no-such-branch"})
	var e *Error
	if !errors.As(err, &e) || e.Name != "NEONFLOW_EBRANCH_MISSING" || e.Code >= 0 || e.Message == "" {
		t.Fatalf("want NEONFLOW_EBRANCH_MISSING with a message, got %v", err)
	}
	if e.Report == nil || e.Report.Result != e.Code {
		t.Errorf("the failed run's report is attached: %+v", e.Report)
	}
}
