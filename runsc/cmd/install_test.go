package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// readJSON parses the file at path into a generic value.
func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, raw)
	}
	return v
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask
		t.Fatal(err)
	}
}

const otherKeys = `{
  "storage-driver": "overlay2",
  "log-opts": {"max-size": "10m", "labels": ["a", "b"]},
  "some-future-key": [1, {"x": null}],
  "runtimes": {"other": {"path": "/usr/bin/other", "runtimeArgs": ["--x"]}}
}`

func TestInstallKeepsOtherKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "daemon.json")
	writeFile(t, path, otherKeys, 0o600)
	if err := installRuntime(path, "runsc", "/opt/bin/runsc", []string{"--debug", "--platform=ptrace"}); err != nil {
		t.Fatal(err)
	}
	got := readJSON(t, path)
	var want map[string]any
	if err := json.Unmarshal([]byte(otherKeys), &want); err != nil {
		t.Fatal(err)
	}
	want["runtimes"].(map[string]any)["runsc"] = map[string]any{
		"path":        "/opt/bin/runsc",
		"runtimeArgs": []any{"--debug", "--platform=ptrace"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after install got\n%v\nwant\n%v", got, want)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 kept", fi.Mode().Perm())
	}
	bak, err := os.ReadFile(path + ".bak")
	if err != nil {
		t.Fatalf("no backup: %v", err)
	}
	if string(bak) != otherKeys {
		t.Errorf("backup is\n%s\nwant the old file\n%s", bak, otherKeys)
	}
	// No temporary file is left behind.
	ents, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 2 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want daemon.json and daemon.json.bak", names)
	}
}

func TestInstallReplacesEntry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "daemon.json")
	writeFile(t, path, `{"runtimes": {"runsc": {"path": "/old/runsc", "runtimeArgs": ["--old"]}, "other": {"path": "/o"}}}`, 0o644)
	if err := installRuntime(path, "runsc", "/new/runsc", nil); err != nil {
		t.Fatal(err)
	}
	got := readJSON(t, path)["runtimes"]
	want := map[string]any{
		"runsc": map[string]any{"path": "/new/runsc"},
		"other": map[string]any{"path": "/o"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("runtimes = %v, want %v", got, want)
	}
}

func TestInstallCreatesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "etc", "docker", "daemon.json")
	if err := installRuntime(path, "rs", "/bin/runsc", []string{"--strace"}); err != nil {
		t.Fatal(err)
	}
	got := readJSON(t, path)
	want := map[string]any{"runtimes": map[string]any{"rs": map[string]any{"path": "/bin/runsc", "runtimeArgs": []any{"--strace"}}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, err := os.Stat(path + ".bak"); !os.IsNotExist(err) {
		t.Errorf("backup of a file that did not exist: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("new file mode %v, want 0644", fi.Mode().Perm())
	}
}

func TestInstallEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "daemon.json")
	writeFile(t, path, "\n", 0o644)
	if err := installRuntime(path, "runsc", "/bin/runsc", nil); err != nil {
		t.Fatal(err)
	}
	if got := readJSON(t, path); len(got) != 1 || got["runtimes"] == nil {
		t.Errorf("got %v, want just runtimes", got)
	}
}

func TestInstallMalformedUntouched(t *testing.T) {
	for _, content := range []string{
		`{"runtimes": {`,
		`[1, 2]`,
		`{"runtimes": "runc"}`,
		`{"runtimes": null}`,
		`"text"`,
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "daemon.json")
		writeFile(t, path, content, 0o644)
		err := installRuntime(path, "runsc", "/bin/runsc", nil)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("install into %q: error %v, want one naming %s", content, err, path)
		}
		if _, err := uninstallRuntime(path, "runsc"); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("uninstall from %q: error %v, want one naming %s", content, err, path)
		}
		if raw, _ := os.ReadFile(path); string(raw) != content {
			t.Errorf("malformed file changed from %q to %q", content, raw)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Errorf("%q: files were added next to the malformed one: %v", content, ents)
		}
	}
}

func TestInstallRelativePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "daemon.json")
	if err := installRuntime(path, "runsc", "bin/runsc", nil); err == nil {
		t.Error("install of a relative runtime path succeeded")
	}
}

func TestInstallThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.json")
	link := filepath.Join(dir, "daemon.json")
	writeFile(t, target, `{"debug": true}`, 0o644)
	if err := os.Symlink("real.json", link); err != nil {
		t.Fatal(err)
	}
	if err := installRuntime(link, "runsc", "/bin/runsc", nil); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced: %v %v", fi, err)
	}
	if got := readJSON(t, target); got["debug"] != true || got["runtimes"] == nil {
		t.Errorf("target holds %v", got)
	}
}

func TestUninstall(t *testing.T) {
	path := filepath.Join(t.TempDir(), "daemon.json")
	writeFile(t, path, `{"debug": true, "runtimes": {"runsc": {"path": "/bin/runsc"}, "other": {"path": "/o"}}}`, 0o640)

	removed, err := uninstallRuntime(path, "runsc")
	if err != nil || !removed {
		t.Fatalf("uninstall = %v, %v; want true, nil", removed, err)
	}
	want := map[string]any{"debug": true, "runtimes": map[string]any{"other": map[string]any{"path": "/o"}}}
	if got := readJSON(t, path); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}

	// Not there any more: nothing to do, nothing written.
	before, _ := os.ReadFile(path)
	if removed, err := uninstallRuntime(path, "runsc"); err != nil || removed {
		t.Errorf("second uninstall = %v, %v; want false, nil", removed, err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Errorf("second uninstall rewrote the file")
	}

	// The last runtime goes with the "runtimes" object.
	if removed, err := uninstallRuntime(path, "other"); err != nil || !removed {
		t.Fatalf("uninstall other = %v, %v", removed, err)
	}
	if got := readJSON(t, path); !reflect.DeepEqual(got, map[string]any{"debug": true}) {
		t.Errorf("got %v, want only debug", got)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("mode not kept: %v %v", fi, err)
	}
}

func TestUninstallMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "daemon.json")
	if removed, err := uninstallRuntime(path, "runsc"); err != nil || removed {
		t.Errorf("uninstall = %v, %v; want false, nil", removed, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("uninstall created the file: %v", err)
	}
}
