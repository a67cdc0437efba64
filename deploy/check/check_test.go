// Package check validates the Kubernetes manifests in deploy/ against the
// Kubernetes API types: each object is decoded strictly, so an unknown,
// misspelt or misplaced field, or a value of the wrong type, fails. It is
// its own module so the stackhouse binary does not depend on k8s.io.
package check

import (
	"bytes"
	"os"
	"regexp"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

func TestManifests(t *testing.T) {
	for _, file := range []string{"../kubernetes.yaml", "../kubernetes-sharded.yaml"} {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			kinds := map[string]int{}
			for _, doc := range docSep.Split(string(data), -1) {
				if len(bytes.TrimSpace(stripComments([]byte(doc)))) == 0 {
					continue
				}
				var meta metav1.TypeMeta
				if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
					t.Fatal(err)
				}
				kinds[meta.Kind]++
				obj, ok := map[string]any{
					"v1/ConfigMap":                 &corev1.ConfigMap{},
					"v1/PersistentVolumeClaim":     &corev1.PersistentVolumeClaim{},
					"v1/Service":                   &corev1.Service{},
					"apps/v1/Deployment":           &appsv1.Deployment{},
					"apps/v1/StatefulSet":          &appsv1.StatefulSet{},
					"networking.k8s.io/v1/Ingress": &networkingv1.Ingress{},
				}[meta.APIVersion+"/"+meta.Kind]
				if !ok {
					t.Fatalf("unexpected %s %s", meta.APIVersion, meta.Kind)
				}
				if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
					t.Errorf("%s: %v", meta.Kind, err)
					continue
				}
				switch o := obj.(type) {
				case *appsv1.Deployment:
					checkPod(t, meta.Kind, o.Spec.Selector, o.Spec.Template)
				case *appsv1.StatefulSet:
					checkPod(t, meta.Kind, o.Spec.Selector, o.Spec.Template)
					if o.Spec.ServiceName == "" || len(o.Spec.VolumeClaimTemplates) == 0 {
						t.Errorf("StatefulSet: serviceName %q, %d claim templates", o.Spec.ServiceName, len(o.Spec.VolumeClaimTemplates))
					}
				}
			}
			if kinds["ConfigMap"] != 1 || kinds["Deployment"]+kinds["StatefulSet"] != 1 {
				t.Errorf("objects %v: want one ConfigMap and one Deployment or StatefulSet", kinds)
			}
		})
	}
}

// checkPod checks what the API server would refuse: a selector that does
// not select the template, containers without a name or image, mounts of
// volumes that do not exist (claim templates count as volumes).
func checkPod(t *testing.T, kind string, sel *metav1.LabelSelector, tpl corev1.PodTemplateSpec) {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || s.Empty() || !s.Matches(labels.Set(tpl.Labels)) {
		t.Errorf("%s: selector %v does not select the pod template's labels %v (%v)", kind, sel, tpl.Labels, err)
	}
	volumes := map[string]bool{"data": kind == "StatefulSet"}
	for _, v := range tpl.Spec.Volumes {
		volumes[v.Name] = true
	}
	if len(tpl.Spec.Containers) == 0 {
		t.Errorf("%s: no containers", kind)
	}
	for _, c := range tpl.Spec.Containers {
		if c.Name == "" || c.Image == "" {
			t.Errorf("%s: container %q without a name or image", kind, c.Name)
		}
		for _, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				t.Errorf("%s: container %s mounts %q, which is no volume", kind, c.Name, m.Name)
			}
		}
	}
}

func stripComments(b []byte) []byte {
	var out [][]byte
	for _, line := range bytes.Split(b, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out = append(out, line)
		}
	}
	return bytes.Join(out, []byte("\n"))
}
