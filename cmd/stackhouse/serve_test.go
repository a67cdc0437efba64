package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/stackhouse/stackhouse/applicantstack/fake"
	"github.com/stackhouse/stackhouse/applicantstack/fake/faketest"
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
	ten := fake.NewTenant("acme")
	ten.Jobs, ten.Candidates = 5, 120
	ten.WebhookSecret = "serve-test-webhook-secret"
	_, baseURL := faketest.Serve(t, ten)
	cfgPath := writeConfig(t, baseURL, "${SERVE_TEST_TOKEN}", `    webhook_secret: ${SERVE_TEST_SECRET}
    requests_per_second: 1000
`, `log_level: info
schedule:
  tail: "@every 1s"
  sync: ""
  full: ""
  jitter: 0s
server:
  listen: 127.0.0.1:1
  shutdown_timeout: 5s
`)
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
	waitUntil(t, 30*time.Second, "publish figures on /metrics", func() bool {
		_, body := httpGet(t, base+"/metrics")
		return strings.Contains(body, "\nstackhouse_publish_last_timestamp_seconds ") &&
			strings.Contains(body, "\nstackhouse_publish_last_success_timestamp_seconds ") &&
			strings.Contains(body, `stackhouse_publish_last_bytes{destination="local"} `) &&
			strings.Contains(body, "\nstackhouse_publish_last_failed 0\n")
	})
	if _, body := httpGet(t, base+"/metrics"); !regexp.MustCompile(`\nstackhouse_build_info\{goversion="go[^"]+",version="[^"]+"\} 1\n`).MatchString(body) {
		t.Errorf("no stackhouse_build_info on /metrics")
	}
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
				EnvFrom []struct {
					SecretRef struct{ Name string } `yaml:"secretRef"`
				} `yaml:"envFrom"`
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

// checkSecrets checks that every ${VAR} the config uses comes from one
// Secret, by envFrom (every key) or a secretKeyRef.
func checkSecrets(t *testing.T, env []struct {
	Name      string
	ValueFrom struct {
		SecretKeyRef struct{ Name, Key string } `yaml:"secretKeyRef"`
	} `yaml:"valueFrom"`
}, envFrom []struct {
	SecretRef struct{ Name string } `yaml:"secretRef"`
}, vars []string) {
	t.Helper()
	fromSecret := map[string]bool{}
	for _, e := range env {
		if e.ValueFrom.SecretKeyRef.Name != "" {
			fromSecret[e.Name] = true
		}
	}
	allFrom := len(envFrom) == 1 && envFrom[0].SecretRef.Name != ""
	for _, v := range vars {
		if !fromSecret[v] && !allFrom {
			t.Errorf("the config uses ${%s} but the pod does not take it from a Secret", v)
		}
	}
}

// readManifest reads the Kubernetes objects of the manifest at path, by
// kind, and the stackhouse config its ConfigMap holds, parsed with every
// ${VAR} set; vars lists the variables the config names.
func readManifest(t *testing.T, path string) (objs map[string]k8sObject, cfg *sync.Config, vars []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	objs = map[string]k8sObject{}
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
	cfg, err = sync.ParseConfig(strings.NewReader(objs["ConfigMap"].Data["stackhouse.yaml"]), func(name string) (string, bool) {
		vars = append(vars, name)
		return "value-of-" + name, true
	})
	if err != nil {
		t.Fatalf("the ConfigMap's config: %v", err)
	}
	return objs, cfg, vars
}

// TestDeploy_kubernetesManifest checks that deploy/kubernetes.yaml holds
// what it promises and that its config loads.
func TestDeploy_kubernetesManifest(t *testing.T) {
	objs, cfg, vars := readManifest(t, "../../deploy/kubernetes.yaml")
	for _, kind := range []string{"ConfigMap", "PersistentVolumeClaim", "Deployment", "Service", "Ingress"} {
		if _, ok := objs[kind]; !ok {
			t.Errorf("no %s in the manifest", kind)
		}
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
	checkSecrets(t, c.Env, c.EnvFrom, vars)
	if !strings.HasPrefix(cfg.Publish.URL, "s3://") {
		t.Errorf("publish.url %q: BI pods cannot reach the ReadWriteOnce volume; publish to object storage", cfg.Publish.URL)
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

// TestDeploy_kubernetesSharded checks deploy/kubernetes-sharded.yaml: a
// StatefulSet whose replica i runs shard i of n (n = replicas), each on its
// own volume, publishing to object storage, secrets from one Secret.
func TestDeploy_kubernetesSharded(t *testing.T) {
	objs, cfg, vars := readManifest(t, "../../deploy/kubernetes-sharded.yaml")
	if !strings.HasPrefix(cfg.Publish.URL, "s3://") {
		t.Errorf("publish.url %q: shards must publish into one shared bucket", cfg.Publish.URL)
	}
	var s struct {
		k8sDeployment `yaml:",inline"`
		ServiceName   string `yaml:"serviceName"`
		Claims        []struct {
			Metadata struct{ Name string }
		} `yaml:"volumeClaimTemplates"`
	}
	spec := objs["StatefulSet"].Spec
	if err := spec.Decode(&s); err != nil {
		t.Fatal(err)
	}
	if s.ServiceName != objs["Service"].Metadata.Name {
		t.Errorf("serviceName %q, the headless Service is %q", s.ServiceName, objs["Service"].Metadata.Name)
	}
	c := s.Template.Spec.Containers[0]
	checkSecrets(t, c.Env, c.EnvFrom, vars)
	shard := ""
	for i, a := range c.Args {
		if a == "-shard" && i+1 < len(c.Args) {
			shard = c.Args[i+1]
		}
	}
	// Every replica's pod name resolves to its own shard; one more would not.
	name := objs["StatefulSet"].Metadata.Name
	for i := 0; i <= s.Replicas; i++ {
		got, n, err := sync.ResolveShard(shard, fmt.Sprintf("%s-%d", name, i), "", "")
		if i == s.Replicas {
			if err == nil {
				t.Errorf("-shard %s accepts replica %d of %d", shard, i, s.Replicas)
			}
			continue
		}
		if err != nil || got != i || n != s.Replicas {
			t.Errorf("pod %s-%d: shard %d/%d, %v; want %d/%d", name, i, got, n, err, i, s.Replicas)
		}
	}
	mounts := map[string]string{}
	for _, m := range c.Mounts {
		mounts[m.Name] = m.MountPath
	}
	if len(s.Claims) != 1 || !strings.HasPrefix(cfg.Warehouse.Path, mounts[s.Claims[0].Metadata.Name]+"/") {
		t.Errorf("warehouse.path %s is not on each replica's own volume (claims %+v, mounts %v)", cfg.Warehouse.Path, s.Claims, mounts)
	}
}

// TestDeploy_sysusers checks deploy/stackhouse.sysusers with
// systemd-sysusers --dry-run: it creates (or finds) the user and group
// stackhouse the unit runs as.
func TestDeploy_sysusers(t *testing.T) {
	sysusers, err := exec.LookPath("systemd-sysusers")
	if err != nil {
		t.Skip("systemd-sysusers is not installed")
	}
	conf, err := filepath.Abs("../../deploy/stackhouse.sysusers") // a relative name is looked up in sysusers.d
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sysusers, "--dry-run", conf).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-sysusers: %v\n%s", err, out)
	}
	if _, err := user.Lookup("stackhouse"); err == nil {
		return // already there: nothing to create
	}
	if !bytes.Contains(out, []byte("Creating user 'stackhouse'")) || !bytes.Contains(out, []byte("Creating group 'stackhouse'")) {
		t.Errorf("systemd-sysusers creates no stackhouse user:\n%s", out)
	}
}
