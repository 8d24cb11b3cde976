package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// k8sObject is the part of a Kubernetes object the manifests' checks read.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		CompletionMode string   `yaml:"completionMode"`
		Completions    *int     `yaml:"completions"`
		Parallelism    *int     `yaml:"parallelism"`
		AccessModes    []string `yaml:"accessModes"`
		Template       struct {
			Spec struct {
				RestartPolicy string `yaml:"restartPolicy"`
				Containers    []struct {
					Image string   `yaml:"image"`
					Args  []string `yaml:"args"`
					Env   []struct {
						Name      string `yaml:"name"`
						Value     string `yaml:"value"`
						ValueFrom struct {
							FieldRef struct {
								FieldPath string `yaml:"fieldPath"`
							} `yaml:"fieldRef"`
						} `yaml:"valueFrom"`
					} `yaml:"env"`
					VolumeMounts []struct {
						Name      string `yaml:"name"`
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				} `yaml:"containers"`
				Volumes []struct {
					Name                  string `yaml:"name"`
					PersistentVolumeClaim struct {
						ClaimName string `yaml:"claimName"`
					} `yaml:"persistentVolumeClaim"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

func readManifest(t *testing.T, path string) map[string]k8sObject {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]k8sObject{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var o k8sObject
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out[o.Kind+"/"+o.Metadata.Name] = o
	}
	return out
}

// argValue returns the value of --name=value in args.
func argValue(args []string, name string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// TestK8sManifestShards checks the Kubernetes manifests of a sharded run
// (ci/k8s) where no cluster can run them: an Indexed Job of n pods, each
// running shard $(JOB_COMPLETION_INDEX)/n of a spec that parses, writing
// its own file on a shared volume, and a merge Job that reads the n files
// from the same volume and checks the spec's thresholds.
func TestK8sManifestShards(t *testing.T) {
	objs := readManifest(t, "../ci/k8s/loadgen-job.yaml")
	job, ok := objs["Job/gatehouse-loadgen"]
	if !ok {
		t.Fatalf("no Job gatehouse-loadgen in %v", slices.Sorted(maps.Keys(objs)))
	}
	s := job.Spec
	if s.CompletionMode != "Indexed" {
		t.Errorf("completionMode %q, want Indexed (JOB_COMPLETION_INDEX picks the shard)", s.CompletionMode)
	}
	if s.Completions == nil || s.Parallelism == nil || *s.Completions != *s.Parallelism || *s.Completions < 2 {
		t.Fatalf("completions %v and parallelism %v must be equal and at least 2 (every shard runs at once)", s.Completions, s.Parallelism)
	}
	n := *s.Completions
	pod := s.Template.Spec
	if pod.RestartPolicy != "Never" || len(pod.Containers) != 1 {
		t.Fatalf("pod: restartPolicy %q, %d containers", pod.RestartPolicy, len(pod.Containers))
	}
	c := pod.Containers[0]
	if len(c.Args) < 2 || c.Args[0] != "loadgen" || c.Args[1] != "run" {
		t.Errorf("args %q do not run `gatehouse loadgen run`", c.Args)
	}
	if v, _ := argValue(c.Args, "shard"); v != fmt.Sprintf("$(JOB_COMPLETION_INDEX)/%d", n) {
		t.Errorf("--shard=%q, want $(JOB_COMPLETION_INDEX)/%d", v, n)
	}
	indexEnv := false
	for _, e := range c.Env {
		if e.Name == "JOB_COMPLETION_INDEX" && e.ValueFrom.FieldRef.FieldPath == "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
			indexEnv = true
		}
	}
	if !indexEnv {
		t.Error("JOB_COMPLETION_INDEX is not taken from the job-completion-index annotation")
	}
	out, _ := argValue(c.Args, "out")
	if !strings.Contains(out, "$(JOB_COMPLETION_INDEX)") {
		t.Errorf("--out=%q: shards would overwrite each other's results", out)
	}
	claim := func(spec k8sObjectPodSpec, path string) string {
		for _, m := range spec.mounts {
			if strings.HasPrefix(path, m.MountPath+"/") {
				for _, v := range spec.volumes {
					if v.Name == m.Name {
						return v.PersistentVolumeClaim.ClaimName
					}
				}
			}
		}
		return ""
	}
	shardClaim := claim(podSpecOf(job), out)
	if shardClaim == "" {
		t.Fatalf("--out=%q is not on a persistent volume", out)
	}
	if pvc, ok := objs["PersistentVolumeClaim/"+shardClaim]; !ok || !slices.Contains(pvc.Spec.AccessModes, "ReadWriteMany") {
		t.Errorf("claim %q: missing or not ReadWriteMany (%d pods write to it)", shardClaim, n)
	}
	specPath, _ := argValue(c.Args, "spec")
	cm, ok := objs["ConfigMap/gatehouse-loadgen-spec"]
	if !ok || !strings.HasPrefix(specPath, "/spec/") {
		t.Fatalf("the spec %q does not come from the ConfigMap", specPath)
	}
	if _, err := ParseSpec([]byte(cm.Data[strings.TrimPrefix(specPath, "/spec/")])); err != nil {
		t.Errorf("the ConfigMap's spec: %v", err)
	}

	merge := readManifest(t, "../ci/k8s/loadgen-merge-job.yaml")["Job/gatehouse-loadgen-merge"]
	if len(merge.Spec.Template.Spec.Containers) != 1 {
		t.Fatal("no merge Job")
	}
	mc := merge.Spec.Template.Spec.Containers[0]
	if len(mc.Args) < 2 || mc.Args[0] != "loadgen" || mc.Args[1] != "merge" {
		t.Fatalf("merge args %q", mc.Args)
	}
	var files []string
	for _, a := range mc.Args[2:] {
		if !strings.HasPrefix(a, "--") {
			files = append(files, a)
		}
	}
	var want []string
	for i := range n {
		want = append(want, strings.ReplaceAll(out, "$(JOB_COMPLETION_INDEX)", fmt.Sprint(i)))
	}
	if !slices.Equal(files, want) {
		t.Errorf("merge reads %q, want the %d shard files %q", files, n, want)
	}
	if got := claim(podSpecOf(merge), want[0]); got != shardClaim {
		t.Errorf("merge reads from claim %q, shards write to %q", got, shardClaim)
	}
	if v, _ := argValue(mc.Args, "spec"); v != specPath {
		t.Errorf("merge checks thresholds of %q, want the run's spec %q", v, specPath)
	}
}

type k8sObjectPodSpec struct {
	mounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	}
	volumes []struct {
		Name                  string `yaml:"name"`
		PersistentVolumeClaim struct {
			ClaimName string `yaml:"claimName"`
		} `yaml:"persistentVolumeClaim"`
	}
}

func podSpecOf(o k8sObject) k8sObjectPodSpec {
	p := o.Spec.Template.Spec
	return k8sObjectPodSpec{mounts: p.Containers[0].VolumeMounts, volumes: p.Volumes}
}
