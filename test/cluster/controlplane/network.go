package controlplane

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The real node's addresses. They exist only on the harness's bridge: the
// range 198.18.0.0/15 is reserved for network benchmarking (RFC 2544), so it
// is never a real destination, and nothing here routes it off the machine.
const (
	// Bridge is the Linux bridge the pods' veths attach to; its own address
	// is the node's IP and the pods' gateway.
	Bridge = "remla0"
	// PodCIDR is the pods' range, handed out by CNI's host-local IPAM.
	PodCIDR = "198.18.0.0/24"
	// NodeIP is the bridge's address: the kubelet's node IP.
	NodeIP = "198.18.0.1"
	// ServiceCIDR is the Services' ClusterIP range (kube-apiserver
	// --service-cluster-ip-range), routed to the bridge.
	ServiceCIDR = "198.19.0.0/16"
	// bridgeMAC is the bridge's fixed, locally administered address.
	bridgeMAC = "02:52:45:4d:4c:41"
	// forwardChain is the harness's own filter chain: forwarding stays
	// between the bridge's ports, so no pod packet is routed off the machine.
	forwardChain = "REMLA-FORWARD"
	// outputChain refuses the host's packets to ClusterIPs without a rule.
	outputChain = "REMLA-OUTPUT"
)

// chainPrefixes are the iptables chains of the real node: kubelet's and
// kube-proxy's (KUBE-), the CNI plugins' (CNI-) and the harness's (REMLA-).
var chainPrefixes = []string{"KUBE-", "CNI-", "REMLA-"}

// iptablesTables are the tables the node's components write to.
var iptablesTables = []string{"filter", "nat", "mangle", "raw"}

// sh runs a command and returns its error with its output.
func sh(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// setUpNetwork makes the bridge with the node's address, routes the Service
// range to it, and confines forwarding to the bridge. The caller has checked
// that none of it exists yet.
func setUpNetwork(ctx context.Context) error {
	_, pods, _ := net.ParseCIDR(PodCIDR)
	ones, _ := pods.Mask.Size()
	steps := [][]string{
		// A bridge without a fixed address takes the lowest of its ports'
		// and changes it as veths come and go; the pods' ARP entries for
		// their gateway then go stale and connections fail.
		{"ip", "link", "add", Bridge, "address", bridgeMAC, "type", "bridge"},
		{"ip", "addr", "add", fmt.Sprintf("%s/%d", NodeIP, ones), "dev", Bridge},
		{"ip", "link", "set", Bridge, "up"},
		// Before kube-proxy writes its rules, a packet to a ClusterIP would
		// otherwise follow the default route out of the machine.
		{"ip", "route", "add", ServiceCIDR, "dev", Bridge, "src", NodeIP},
		// A packet to a ClusterIP that kube-proxy's rules did not rewrite
		// (they are not written yet) is refused at once. Routed on, it would
		// ask the bridge for the ClusterIP's address and fail with "no route
		// to host" seconds later, and its conntrack entry would keep later
		// connections from the same source port from being rewritten.
		{"iptables", "-w", "-N", outputChain},
		{"iptables", "-w", "-A", outputChain, "-d", ServiceCIDR, "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"},
		{"iptables", "-w", "-A", outputChain, "-d", ServiceCIDR, "-j", "REJECT"},
		{"iptables", "-w", "-I", "OUTPUT", "1", "-j", outputChain},
		{"iptables", "-w", "-N", forwardChain},
		{"iptables", "-w", "-A", forwardChain, "-d", ServiceCIDR, "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"},
		{"iptables", "-w", "-A", forwardChain, "-d", ServiceCIDR, "-j", "REJECT"},
		{"iptables", "-w", "-A", forwardChain, "-i", Bridge, "-o", Bridge, "-j", "ACCEPT"},
		{"iptables", "-w", "-A", forwardChain, "-i", Bridge, "-j", "DROP"},
		{"iptables", "-w", "-A", forwardChain, "-o", Bridge, "-j", "DROP"},
		{"iptables", "-w", "-I", "FORWARD", "1", "-j", forwardChain},
	}
	for _, s := range steps {
		if _, err := sh(ctx, s[0], s[1:]...); err != nil {
			return fmt.Errorf("set up the node's network: %w", err)
		}
	}
	return nil
}

// networkInUse says what of the node's network already exists on the machine.
func networkInUse(ctx context.Context) []string {
	var found []string
	if _, err := net.InterfaceByName(Bridge); err == nil {
		found = append(found, "bridge "+Bridge)
	}
	if out, err := sh(ctx, "ip", "-o", "route", "show", ServiceCIDR); err == nil && strings.TrimSpace(out) != "" {
		found = append(found, "route "+strings.TrimSpace(out))
	}
	for _, fam := range []string{"iptables", "ip6tables"} {
		for _, c := range nodeChains(ctx, fam) {
			found = append(found, fam+" chain "+c)
		}
	}
	return found
}

// nodeChains lists "table/chain" for every chain of the node in one family.
func nodeChains(ctx context.Context, family string) []string {
	var chains []string
	for _, table := range iptablesTables {
		out, err := sh(ctx, family, "-w", "-t", table, "-S")
		if err != nil {
			continue // the table does not exist in this family
		}
		for _, line := range strings.Split(out, "\n") {
			if name, ok := strings.CutPrefix(line, "-N "); ok && hasChainPrefix(name) {
				chains = append(chains, table+"/"+name)
			}
		}
	}
	return chains
}

func hasChainPrefix(name string) bool {
	for _, p := range chainPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// removeChains deletes, in iptables and ip6tables, every rule of a built-in
// chain that jumps to a node chain, then flushes and deletes the node chains:
// kubelet's KUBE-FIREWALL, KUBE-KUBELET-CANARY and KUBE-IPTABLES-HINT, which
// nothing else removes, kube-proxy's, the CNI plugins' and the harness's.
func removeChains(ctx context.Context) []error {
	var errs []error
	for _, fam := range []string{"iptables", "ip6tables"} {
		for _, table := range iptablesTables {
			out, err := sh(ctx, fam, "-w", "-t", table, "-S")
			if err != nil {
				continue
			}
			var mine []string
			for _, line := range strings.Split(out, "\n") {
				args := splitRule(line)
				if len(args) < 2 {
					continue
				}
				switch {
				case args[0] == "-N" && hasChainPrefix(args[1]):
					mine = append(mine, args[1])
				case args[0] == "-A" && !hasChainPrefix(args[1]) && jumpsToNodeChain(args):
					del := append([]string{"-w", "-t", table, "-D"}, args[1:]...)
					if _, err := sh(ctx, fam, del...); err != nil {
						errs = append(errs, err)
					}
				}
			}
			for _, c := range mine {
				if _, err := sh(ctx, fam, "-w", "-t", table, "-F", c); err != nil {
					errs = append(errs, err)
				}
			}
			for _, c := range mine {
				if _, err := sh(ctx, fam, "-w", "-t", table, "-X", c); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return errs
}

func jumpsToNodeChain(args []string) bool {
	for i, a := range args[:len(args)-1] {
		if (a == "-j" || a == "-g") && hasChainPrefix(args[i+1]) {
			return true
		}
	}
	return false
}

// splitRule splits a line of `iptables -S` into arguments, undoing its
// double quotes (comments such as "kubernetes service portals").
func splitRule(line string) []string {
	var args []string
	var cur strings.Builder
	inQuote, have := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\' && inQuote && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		case c == '"':
			inQuote, have = !inQuote, true
		case c == ' ' && !inQuote:
			if have {
				args = append(args, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if have {
		args = append(args, cur.String())
	}
	return args
}

// removeNetwork deletes the veths on the bridge, the route and the bridge.
func removeNetwork(ctx context.Context) []error {
	var errs []error
	if out, err := sh(ctx, "ip", "-o", "link", "show", "master", Bridge); err == nil {
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
			if _, err := sh(ctx, "ip", "link", "del", name); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if out, _ := sh(ctx, "ip", "-o", "route", "show", ServiceCIDR); strings.TrimSpace(out) != "" {
		if _, err := sh(ctx, "ip", "route", "del", ServiceCIDR); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := net.InterfaceByName(Bridge); err == nil {
		if _, err := sh(ctx, "ip", "link", "del", Bridge); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// netnsDir is where CNI runtimes mount their network namespaces.
const netnsDir = "/run/netns"

// podNetns lists the names of the cni-* network namespaces on the machine.
func podNetns() []string {
	entries, _ := os.ReadDir(netnsDir)
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "cni-") {
			names = append(names, e.Name())
		}
	}
	return names
}

// removeNetns unmounts and removes the cni-* namespaces that were not there
// before the node started.
func removeNetns(before []string) []error {
	var errs []error
	for _, name := range podNetns() {
		if slices.Contains(before, name) {
			continue
		}
		p := filepath.Join(netnsDir, name)
		if err := unmount(p); err != nil {
			errs = append(errs, err)
		}
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			errs = append(errs, fmt.Errorf("remove network namespace %s: %w", p, err))
		}
	}
	return errs
}

// nftTables lists the nftables tables ("ip nat", "ip6 filter", ...): the
// iptables-nft commands kubelet and kube-proxy run create them on first use.
func nftTables(ctx context.Context) []string {
	out, err := sh(ctx, "nft", "list", "tables")
	if err != nil {
		return nil
	}
	var tables []string
	for _, line := range strings.Split(out, "\n") {
		if t, ok := strings.CutPrefix(strings.TrimSpace(line), "table "); ok {
			tables = append(tables, t)
		}
	}
	return tables
}

// removeTables deletes the nftables tables that did not exist before the
// node started, once no rule is left in them.
func removeTables(ctx context.Context, before []string) []error {
	var errs []error
	for _, t := range nftTables(ctx) {
		if slices.Contains(before, t) {
			continue
		}
		out, err := sh(ctx, "nft", append([]string{"list", "table"}, strings.Fields(t)...)...)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if rules := tableRules(out); len(rules) > 0 {
			errs = append(errs, fmt.Errorf("not removing nftables table %s: rules are left in it: %v", t, rules))
			continue
		}
		if _, err := sh(ctx, "nft", append([]string{"delete", "table"}, strings.Fields(t)...)...); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// tableRules returns the rule lines of `nft list table` output: every line
// that is not a table or chain header, a chain's type and policy, or a brace.
func tableRules(listing string) []string {
	var rules []string
	for _, line := range strings.Split(listing, "\n") {
		l := strings.TrimSpace(line)
		switch {
		case l == "", l == "}", strings.HasPrefix(l, "table "), strings.HasPrefix(l, "chain "), strings.HasPrefix(l, "type "):
		default:
			rules = append(rules, l)
		}
	}
	return rules
}
