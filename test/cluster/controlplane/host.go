package controlplane

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// What the real node changes on the host outside its run directory, and how
// down puts it back: sysctls are restored to the values read before the node
// started, the node's cgroups are removed, and the directories the
// components create at fixed paths are removed when they did not exist
// before.

// savedSysctls are the kernel settings kubelet (setupKernelTunables),
// kube-proxy and the CNI bridge plugin (ip_forward for a gateway) may write.
var savedSysctls = []string{
	"net/ipv4/ip_forward",
	"net/ipv6/conf/all/forwarding",
	"net/ipv4/conf/all/route_localnet",
	"net/bridge/bridge-nf-call-iptables",
	"net/bridge/bridge-nf-call-ip6tables",
	"vm/overcommit_memory",
	"vm/panic_on_oom",
	"kernel/panic",
	"kernel/panic_on_oops",
	"kernel/keys/root_maxkeys",
	"kernel/keys/root_maxbytes",
	"net/netfilter/nf_conntrack_max",
}

func readSysctls() map[string]string {
	vals := map[string]string{}
	for _, k := range savedSysctls {
		if b, err := os.ReadFile(filepath.Join("/proc/sys", k)); err == nil {
			vals[k] = strings.TrimSpace(string(b))
		}
	}
	return vals
}

// restoreSysctls writes back the values that changed.
func restoreSysctls(saved map[string]string) []error {
	var errs []error
	now := readSysctls()
	for k, v := range saved {
		if now[k] == v {
			continue
		}
		if err := os.WriteFile(filepath.Join("/proc/sys", k), []byte(v), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("restore sysctl %s=%s: %w", k, v, err))
		}
	}
	return errs
}

// changedSysctls says which saved settings differ from now.
func changedSysctls(saved map[string]string) []string {
	var diff []string
	now := readSysctls()
	for k, v := range saved {
		if now[k] != v {
			diff = append(diff, fmt.Sprintf("sysctl %s is %s, was %s", k, now[k], v))
		}
	}
	slices.Sort(diff)
	return diff
}

const cgroupMount = "/sys/fs/cgroup"

// CgroupRoot is the kubelet's --cgroup-root: every pod's cgroup lives below
// it, in every hierarchy, so down can remove them all.
const CgroupRoot = "/remla-node"

// cgroupHierarchies lists the mounted cgroup hierarchies (v1 controllers,
// name=systemd and the unified v2 one of the hybrid layout).
func cgroupHierarchies() []string {
	entries, err := os.ReadDir(cgroupMount)
	if err != nil {
		return nil
	}
	var dirs []string
	for _, e := range entries {
		p := filepath.Join(cgroupMount, e.Name())
		if fi, err := os.Lstat(p); err == nil && fi.IsDir() { // skip the cpu,cpuacct symlinks
			dirs = append(dirs, p)
		}
	}
	return dirs
}

// makeCgroupRoot creates CgroupRoot in every hierarchy; kubelet refuses a
// root that does not exist. A new cpuset cgroup needs its CPUs and memory
// nodes before anything can join it.
func makeCgroupRoot() error {
	for _, h := range cgroupHierarchies() {
		dir := filepath.Join(h, CgroupRoot)
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create cgroup %s: %w", dir, err)
		}
		if filepath.Base(h) == "cpuset" {
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				v, err := os.ReadFile(filepath.Join(h, f))
				if err != nil {
					return fmt.Errorf("read %s: %w", filepath.Join(h, f), err)
				}
				if err := os.WriteFile(filepath.Join(dir, f), v, 0o644); err != nil {
					return fmt.Errorf("set %s: %w", filepath.Join(dir, f), err)
				}
			}
		}
	}
	return nil
}

// cgroupsLeft lists the node's cgroups still present.
func cgroupsLeft() []string {
	var left []string
	for _, h := range cgroupHierarchies() {
		if _, err := os.Stat(filepath.Join(h, CgroupRoot)); err == nil {
			left = append(left, filepath.Join(h, CgroupRoot))
		}
	}
	return left
}

// cgroupProcs lists the PIDs in the node's cgroups (the pids hierarchy
// holds every process of every pod).
func cgroupProcs() []int {
	var pids []int
	root := filepath.Join(cgroupMount, "pids", CgroupRoot)
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(filepath.Join(p, "cgroup.procs"))
		if err != nil {
			return nil
		}
		for _, f := range strings.Fields(string(b)) {
			var pid int
			if _, err := fmt.Sscan(f, &pid); err == nil {
				pids = append(pids, pid)
			}
		}
		return nil
	})
	return pids
}

// removeCgroups removes the node's cgroups, deepest first (a cgroup
// directory is removed with rmdir, and only once it is empty).
func removeCgroups() []error {
	var errs []error
	for _, h := range cgroupHierarchies() {
		root := filepath.Join(h, CgroupRoot)
		var dirs []string
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := os.Remove(dirs[i]); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("remove cgroup %s: %w", dirs[i], err))
			}
		}
	}
	return errs
}

// globalPaths are the fixed paths the node's components create outside the
// run directory: containerd's shim sockets (/run/containerd/s), the pods'
// network namespaces, libcni's result cache, kubelet's log symlinks.
var globalPaths = []string{"/run/containerd", netnsDir, "/var/lib/cni", "/var/log/containers", "/var/log/pods"}

// absentPaths returns the globalPaths that do not exist now.
func absentPaths() []string {
	var absent []string
	for _, p := range globalPaths {
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			absent = append(absent, p)
		}
	}
	return absent
}

// removeCreatedPaths removes the paths that were absent before the node
// started, once nothing is mounted below them. Where a path existed before,
// only the kubelet's dangling log symlinks into logDir are removed.
func removeCreatedPaths(absentBefore []string, logDir string) []error {
	var errs []error
	for _, p := range globalPaths {
		if !slices.Contains(absentBefore, p) {
			continue
		}
		if m := mountsUnder(p); len(m) > 0 {
			errs = append(errs, fmt.Errorf("not removing %s: still mounted below it: %v", p, m))
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, err)
		}
	}
	if entries, err := os.ReadDir("/var/log/containers"); err == nil {
		for _, e := range entries {
			p := filepath.Join("/var/log/containers", e.Name())
			if target, err := os.Readlink(p); err == nil && strings.HasPrefix(target, logDir+"/") {
				if err := os.Remove(p); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return errs
}

// createdPathsLeft lists the paths absent before the node that exist now.
func createdPathsLeft(absentBefore []string) []string {
	var left []string
	for _, p := range absentBefore {
		if _, err := os.Lstat(p); err == nil {
			left = append(left, p)
		}
	}
	return left
}
