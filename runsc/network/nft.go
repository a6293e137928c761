package network

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"
)

// tablePrefix starts the name of every nftables table runsc makes (one
// per sandbox, "palisade-ID") and the comment of every rule it inserts
// into a chain that is not its own ("palisade-ID").
const tablePrefix = "palisade-"

// tableName is the name of sandbox id's table, and the comment of its
// rules in others' chains.
func tableName(id string) string { return tablePrefix + id }

// ifname is an interface name as iptables-nft writes it for -i/-o (the
// name and its NUL), so that iptables can still list a chain we add to.
func ifname(n string) []byte {
	return append([]byte(n), 0)
}

// matchIfname loads the input or output interface name and compares it.
func matchIfname(key expr.MetaKey, op expr.CmpOp, name string) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: op, Register: 1, Data: ifname(name)},
	}
}

// matchNotEstablished matches packets whose conntrack state is neither
// established nor related.
func matchNotEstablished() []expr.Any {
	op := expr.CmpOpEq
	return []expr.Any{
		&expr.Ct{Key: expr.CtKeySTATE, Register: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binary.NativeEndian.AppendUint32(nil, expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED),
			Xor:  binary.NativeEndian.AppendUint32(nil, 0)},
		&expr.Cmp{Op: op, Register: 1, Data: binary.NativeEndian.AppendUint32(nil, 0)},
	}
}

// matchSource matches IPv4 source addresses in subnet.
func matchSource(subnet netip.Prefix) []expr.Any {
	mask := make([]byte, 4)
	binary.BigEndian.PutUint32(mask, ^uint32(0)<<(32-subnet.Bits()))
	addr := subnet.Masked().Addr().As4()
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: addr[:]},
	}
}

func cat(parts ...[]expr.Any) []expr.Any {
	var all []expr.Any
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

// addRules makes sandbox id's table, in one netlink batch:
//
//	table ip palisade-ID {
//	  chain postrouting { type nat hook postrouting priority srcnat;
//	    ip saddr SUBNET oifname != VETH masquerade }
//	  chain forward { type filter hook forward priority filter;
//	    oifname VETH ct state != established,related drop }
//	}
//
// and, when the host's iptables-nft `ip filter FORWARD` chain drops by
// policy (docker sets it so), two rules at its head, commented
// "palisade-ID": iifname VETH accept; oifname VETH accept. Without them
// that chain would drop the sandbox's forwarded packets whatever our
// table says (a drop in any base chain is final). They are plain
// interface matches, which iptables understands (`iptables -S` shows
// them as -i/-o ... -j ACCEPT); what enters the veth is still limited to
// replies by our own forward chain's drop.
func addRules(id, veth string, subnet netip.Prefix) error {
	c, err := nftables.New()
	if err != nil {
		return err
	}
	t := c.AddTable(&nftables.Table{Family: nftables.TableFamilyIPv4, Name: tableName(id)})
	post := c.AddChain(&nftables.Chain{Name: "postrouting", Table: t, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource})
	c.AddRule(&nftables.Rule{Table: t, Chain: post, Exprs: cat(
		matchSource(subnet),
		matchIfname(expr.MetaKeyOIFNAME, expr.CmpOpNeq, veth),
		[]expr.Any{&expr.Masq{}})})
	fwd := c.AddChain(&nftables.Chain{Name: "forward", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter})
	c.AddRule(&nftables.Rule{Table: t, Chain: fwd, Exprs: cat(
		matchIfname(expr.MetaKeyOIFNAME, expr.CmpOpEq, veth),
		matchNotEstablished(),
		[]expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}})})
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: adding table %s: %w", tableName(id), err)
	}
	fc, err := dropForwardChain(c)
	if err != nil || fc == nil {
		return err
	}
	comment := userdata.AppendString(nil, userdata.TypeComment, tableName(id))
	accept := []expr.Any{&expr.Verdict{Kind: expr.VerdictAccept}}
	c.InsertRule(&nftables.Rule{Table: fc.Table, Chain: fc, UserData: comment, Exprs: cat(
		matchIfname(expr.MetaKeyOIFNAME, expr.CmpOpEq, veth), accept)})
	c.InsertRule(&nftables.Rule{Table: fc.Table, Chain: fc, UserData: comment, Exprs: cat(
		matchIfname(expr.MetaKeyIIFNAME, expr.CmpOpEq, veth), accept)})
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: adding rules to ip filter FORWARD: %w", err)
	}
	return nil
}

// dropForwardChain returns iptables-nft's `ip filter FORWARD` base chain
// if it exists with policy drop, else nil.
func dropForwardChain(c *nftables.Conn) (*nftables.Chain, error) {
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return nil, fmt.Errorf("nftables: listing chains: %w", err)
	}
	for _, ch := range chains {
		if ch.Table.Name == "filter" && ch.Name == "FORWARD" && ch.Hooknum != nil &&
			ch.Policy != nil && *ch.Policy == nftables.ChainPolicyDrop {
			return ch, nil
		}
	}
	return nil, nil
}

// Owners lists the sandbox ids that own nftables state on the host: a
// table "palisade-ID", or a rule commented so in ip filter FORWARD.
func Owners() (map[string]bool, error) {
	c, err := nftables.New()
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return nil, fmt.Errorf("nftables: listing tables: %w", err)
	}
	for _, t := range tables {
		if id, ok := strings.CutPrefix(t.Name, tablePrefix); ok {
			ids[id] = true
		}
	}
	rules, _, err := forwardRules(c)
	if err != nil {
		return nil, err
	}
	for _, r := range rules {
		if s, ok := userdata.GetString(r.UserData, userdata.TypeComment); ok {
			if id, ok := strings.CutPrefix(s, tablePrefix); ok {
				ids[id] = true
			}
		}
	}
	return ids, nil
}

// forwardRules returns the rules of ip filter FORWARD (none if it does
// not exist).
func forwardRules(c *nftables.Conn) ([]*nftables.Rule, *nftables.Chain, error) {
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return nil, nil, fmt.Errorf("nftables: listing chains: %w", err)
	}
	for _, ch := range chains {
		if ch.Table.Name == "filter" && ch.Name == "FORWARD" {
			rules, err := c.GetRules(ch.Table, ch)
			if err != nil {
				return nil, nil, fmt.Errorf("nftables: listing ip filter FORWARD: %w", err)
			}
			return rules, ch, nil
		}
	}
	return nil, nil, nil
}

// removeRules deletes sandbox id's table and its rules in ip filter
// FORWARD; what is already gone is no error.
func removeRules(id string) error {
	c, err := nftables.New()
	if err != nil {
		return err
	}
	var errs []error
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return fmt.Errorf("nftables: listing tables: %w", err)
	}
	for _, t := range tables {
		if t.Name == tableName(id) {
			c.DelTable(t)
			if err := c.Flush(); err != nil && !errors.Is(err, unix.ENOENT) {
				errs = append(errs, fmt.Errorf("nftables: deleting table %s: %w", t.Name, err))
			}
		}
	}
	rules, _, err := forwardRules(c)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, r := range rules {
		if s, ok := userdata.GetString(r.UserData, userdata.TypeComment); ok && s == tableName(id) {
			if err := c.DelRule(r); err != nil {
				errs = append(errs, err)
				continue
			}
			if err := c.Flush(); err != nil && !errors.Is(err, unix.ENOENT) {
				errs = append(errs, fmt.Errorf("nftables: deleting rule %d of ip filter FORWARD: %w", r.Handle, err))
			}
		}
	}
	return errors.Join(errs...)
}
