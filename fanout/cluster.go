package fanout

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/server"
)

// Cluster is what a tier on a message bus knows of the other nodes: the
// figures each node shares on the bus (cmd/rtd adapts natsbroker.Broker).
// Its methods may do a round trip to the bus; they fail with an error
// wrapping hub.ErrBrokerUnavailable when it cannot be reached.
type Cluster interface {
	// Node returns this node's ID.
	Node() string
	// PeerPresence returns the channel's counts on the other nodes, as
	// they last shared them (every second or so).
	PeerPresence(channel string) (clients, users int, err error)
	// NodeStats returns what every live node last shared of its Stats
	// (JSON), by node ID; this node's entry may be missing or old.
	NodeStats() (map[string][]byte, error)
	// Relay hands op to every other node's OnRelay function, at most
	// once (a node cut off meanwhile misses it), and returns once the bus
	// has it.
	Relay(op []byte) error
	// OnRelay sets the function that receives what the other nodes relay
	// (not this node's own). It may run on any goroutine.
	OnRelay(func(op []byte))
}

// ClusterStats are the totals over every live node, as /api/stats reports
// them under "cluster", and a line per node.
type ClusterStats struct {
	Nodes int `json:"nodes"`
	Totals
	Members []NodeSummary `json:"members"`
}

// NodeSummary is one node's line in ClusterStats.
type NodeSummary struct {
	Node          string `json:"node"`
	Connections   int64  `json:"connections"`
	Subscriptions int    `json:"subscriptions"`
	RSSBytes      int64  `json:"rss_bytes"`
}

// clusterStats sums self (live) and what the other nodes last shared.
func (t *Tier) clusterStats(self *Stats) (*ClusterStats, error) {
	shared, err := t.o.Cluster.NodeStats()
	if err != nil {
		return nil, err
	}
	all := []Stats{*self}
	for node, b := range shared {
		var st Stats
		if node == self.Node || json.Unmarshal(b, &st) != nil {
			continue
		}
		st.Node = node
		all = append(all, st)
	}
	cs := &ClusterStats{Nodes: len(all), Totals: Totals{Connections: map[string]int64{}}}
	for i := range all {
		st := &all[i]
		cs.add(&st.Totals)
		cs.Members = append(cs.Members, NodeSummary{Node: st.Node, Connections: st.Connections["total"], Subscriptions: st.Subscriptions, RSSBytes: st.RSSBytes})
	}
	slices.SortFunc(cs.Members, func(a, b NodeSummary) int { return strings.Compare(a.Node, b.Node) })
	return cs, nil
}

// clusterScope reports whether an API request wants cluster-wide figures:
// with a cluster, unless ?scope=node.
func (t *Tier) clusterScope(r *server.Request) bool {
	return t.o.Cluster != nil && r.Query("scope") != "node"
}

// clusterPresence adds the other nodes' counts to this node's presence.
func (t *Tier) clusterPresence(channel string, p *hub.Presence) (hub.Presence, error) {
	c, u, err := t.o.Cluster.PeerPresence(channel)
	if err != nil {
		return hub.Presence{}, err
	}
	all := *p
	all.Clients += c
	all.Users += u
	return all, nil
}

// add adds o's figures to a's.
func (a *Totals) add(o *Totals) {
	for k, v := range o.Connections {
		a.Connections[k] += v
	}
	a.Subscriptions += o.Subscriptions
	a.Published += o.Published
	a.Deliveries += o.Deliveries
	a.MessagesIn += o.MessagesIn
	a.MessagesOut += o.MessagesOut
	a.Drops += o.Drops
	a.SlowCloses += o.SlowCloses
	a.AuthFailures += o.AuthFailures
	a.RSSBytes += o.RSSBytes
}
