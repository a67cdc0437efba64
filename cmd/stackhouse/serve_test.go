package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/stackhouse/stackhouse/applicantstack/fake"
	"github.com/stackhouse/stackhouse/sync"
)

func TestServe_help(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"serve", "-h"}, &stdout, &stderr); code != 0 {
		t.Fatalf("serve -h exited %d: %s", code, stderr.String())
	}
	for _, want := range []string{"/webhooks/applicantstack/<subdomain>", "-shard", "-listen", "-config", "/readyz", "/metrics", "SIGTERM", "deploy/README.md"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("serve -h does not mention %s", want)
		}
	}
}

// lockedBuffer is a bytes.Buffer the daemon's goroutines may write while
// the test reads it.
type lockedBuffer struct {
	mu  stdsync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestServe_runsAndStops runs `stackhouse serve` against the fake: it
// schedules a tail pass, accepts a webhook, reports readiness, logs JSON
// without secrets, and exits 0 when its context ends.
func TestServe_runsAndStops(t *testing.T) {
	fs := fake.NewServer()
	ten := fake.NewTenant("acme")
	ten.Jobs, ten.Candidates = 5, 120
	ten.WebhookSecret = "serve-test-webhook-secret"
	if err := fs.AddTenant(ten); err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(fs)
	defer func() { api.Close(); fs.Close() }()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "stackhouse.yaml")
	cfg := `log_level: info
warehouse:
  path: ` + filepath.Join(dir, "wh.duckdb") + `
  published_path: ` + filepath.Join(dir, "published.duckdb") + `
  parquet_dir: ` + filepath.Join(dir, "parquet") + `
  attachments_dir: ` + filepath.Join(dir, "files") + `
accounts:
  - subdomain: acme
    token: ${SERVE_TEST_TOKEN}
    webhook_secret: ${SERVE_TEST_SECRET}
    base_url: ` + api.URL + `
    requests_per_second: 1000
schedule:
  tail: "@every 1s"
  sync: ""
  full: ""
  jitter: 0s
server:
  listen: 127.0.0.1:1
  shutdown_timeout: 5s
`
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SERVE_TEST_TOKEN", ten.Token)
	t.Setenv("SERVE_TEST_SECRET", ten.WebhookSecret)
	t.Setenv("LOG_LEVEL", "")

	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{"serve", "-config", cfgPath, "-listen", "127.0.0.1:0"}, stdout, stderr)
	}()
	addrRE := regexp.MustCompile(`"msg":"serving","addr":"([^"]+)"`)
	var base string
	waitUntil(t, 30*time.Second, "the serving log line", func() bool {
		select {
		case code := <-exited:
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		default:
		}
		if m := addrRE.FindStringSubmatch(stdout.String()); m != nil {
			base = "http://" + m[1]
		}
		return base != ""
	})
	if code, _ := httpGet(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d", code)
	}
	waitUntil(t, 60*time.Second, "a successful tail pass on /readyz", func() bool {
		code, body := httpGet(t, base+"/readyz")
		return code == http.StatusOK && strings.Contains(body, `"mode":"tail","status":"succeeded"`)
	})
	hook := `{"Object Type":"candidate","Event Type":"stagechange","Domain":"acme","Secret":"` + ten.WebhookSecret +
		`","Event Date":"2026-03-16T10:15:00-04:00","Stage":"Interview","Candidate Serial":"a4nothere000","User Serial":"","User Type":"SYSTEM"}`
	resp, err := http.Post(base+"/webhooks/applicantstack/acme", "application/json", strings.NewReader(hook))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("webhook = %d", resp.StatusCode)
	}
	cancel()
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("serve exited %d after its context ended: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not exit after its context ended")
	}
	logs := stdout.String()
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %s", line)
			break
		}
	}
	for _, secret := range []string{ten.Token, ten.WebhookSecret} {
		if strings.Contains(logs+stderr.String(), secret) {
			t.Errorf("a secret appears in the output")
		}
	}
	if !strings.Contains(logs, `"msg":"stopped"`) {
		t.Errorf("no clean stop in the logs:\n%s", logs)
	}
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestDeploy_systemdUnit checks deploy/stackhouse.service with
// systemd-analyze verify, with this test binary standing in for the
// installed stackhouse (verify wants an executable ExecStart).
func TestDeploy_systemdUnit(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	unit, err := os.ReadFile("../../deploy/stackhouse.service")
	if err != nil {
		t.Fatal(err)
	}
	const bin = "/usr/local/bin/stackhouse"
	if !bytes.Contains(unit, []byte("\nExecStart="+bin+" serve -config /etc/stackhouse/stackhouse.yaml\n")) {
		t.Fatal("ExecStart is not `" + bin + " serve -config /etc/stackhouse/stackhouse.yaml`")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "stackhouse.service")
	if err := os.WriteFile(path, bytes.ReplaceAll(unit, []byte(bin), []byte(exe)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) || bytes.Contains(out, []byte("stackhouse.service")) {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	if err != nil {
		t.Skipf("systemd-analyze did not run: %v", err)
	}
}

// k8sObject is the part of a Kubernetes object the manifest test reads.
type k8sObject struct {
	Kind     string                `yaml:"kind"`
	Metadata struct{ Name string } `yaml:"metadata"`
	Data     map[string]string     `yaml:"data"`
	Spec     yaml.Node             `yaml:"spec"`
}

type k8sDeployment struct {
	Replicas int
	Strategy struct{ Type string }
	Template struct {
		Spec struct {
			Grace      int `yaml:"terminationGracePeriodSeconds"`
			Containers []struct {
				Args []string
				Env  []struct {
					Name      string
					ValueFrom struct {
						SecretKeyRef struct{ Name, Key string } `yaml:"secretKeyRef"`
					} `yaml:"valueFrom"`
				}
				Liveness struct {
					HTTPGet struct{ Path string } `yaml:"httpGet"`
				} `yaml:"livenessProbe"`
				Readiness struct {
					HTTPGet struct{ Path string } `yaml:"httpGet"`
				} `yaml:"readinessProbe"`
				Mounts []struct {
					Name      string
					MountPath string `yaml:"mountPath"`
				} `yaml:"volumeMounts"`
			}
			Volumes []struct {
				Name string
				PVC  struct {
					ClaimName string `yaml:"claimName"`
				} `yaml:"persistentVolumeClaim"`
				ConfigMap struct{ Name string } `yaml:"configMap"`
			}
		}
	}
}

// TestDeploy_kubernetesManifest checks that deploy/kubernetes.yaml holds
// what it promises and that its config loads.
func TestDeploy_kubernetesManifest(t *testing.T) {
	f, err := os.Open("../../deploy/kubernetes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	objs := map[string]k8sObject{}
	dec := yaml.NewDecoder(f)
	for {
		var o k8sObject
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		objs[o.Kind] = o
	}
	for _, kind := range []string{"ConfigMap", "PersistentVolumeClaim", "Deployment", "Service", "Ingress"} {
		if _, ok := objs[kind]; !ok {
			t.Errorf("no %s in the manifest", kind)
		}
	}
	var vars []string
	cfg, err := sync.ParseConfig(strings.NewReader(objs["ConfigMap"].Data["stackhouse.yaml"]), func(name string) (string, bool) {
		vars = append(vars, name)
		return "value-of-" + name, true
	})
	if err != nil {
		t.Fatalf("the ConfigMap's config: %v", err)
	}
	var d k8sDeployment
	spec := objs["Deployment"].Spec
	if err := spec.Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.Replicas != 1 || d.Strategy.Type != "Recreate" {
		t.Errorf("replicas %d, strategy %q: DuckDB needs exactly one writer (1, Recreate)", d.Replicas, d.Strategy.Type)
	}
	if d.Template.Spec.Grace <= int(cfg.Server.ShutdownTimeout.Seconds()) {
		t.Errorf("terminationGracePeriodSeconds %d is not above server.shutdown_timeout %v", d.Template.Spec.Grace, cfg.Server.ShutdownTimeout)
	}
	if !strings.HasPrefix(cfg.Server.Listen, "0.0.0.0:") {
		t.Errorf("server.listen %q is not reachable from the Service", cfg.Server.Listen)
	}
	c := d.Template.Spec.Containers[0]
	if len(c.Args) == 0 || c.Args[0] != "serve" || c.Liveness.HTTPGet.Path != "/healthz" || c.Readiness.HTTPGet.Path != "/readyz" {
		t.Errorf("container args %q, probes %q %q", c.Args, c.Liveness.HTTPGet.Path, c.Readiness.HTTPGet.Path)
	}
	fromSecret := map[string]bool{}
	for _, e := range c.Env {
		if e.ValueFrom.SecretKeyRef.Name != "" {
			fromSecret[e.Name] = true
		}
	}
	for _, v := range vars {
		if !fromSecret[v] {
			t.Errorf("the config uses ${%s} but the Deployment does not take it from a Secret", v)
		}
	}
	mounts := map[string]string{}
	for _, m := range c.Mounts {
		mounts[m.Name] = m.MountPath
	}
	for _, v := range d.Template.Spec.Volumes {
		if v.PVC.ClaimName != "" && v.PVC.ClaimName != objs["PersistentVolumeClaim"].Metadata.Name {
			t.Errorf("volume %s claims %q, the manifest's PVC is %q", v.Name, v.PVC.ClaimName, objs["PersistentVolumeClaim"].Metadata.Name)
		}
		if v.PVC.ClaimName != "" && !strings.HasPrefix(cfg.Warehouse.Path, mounts[v.Name]+"/") {
			t.Errorf("warehouse.path %s is not on the PVC mounted at %s", cfg.Warehouse.Path, mounts[v.Name])
		}
	}
	if !strings.Contains(nodeText(objs["Ingress"].Spec), "/webhooks/applicantstack/") {
		t.Error("the Ingress does not route the webhook path")
	}
}

func nodeText(n yaml.Node) string {
	b, _ := yaml.Marshal(&n)
	return string(b)
}
