package availability_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/availability"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inventory"
)

var now = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func pos(onHand, reserved int64) inventory.Position {
	return inventory.Position{Delta: event.Units(onHand), Reserved: event.Units(reserved)}
}

func TestChannelATP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		buffer event.Qty
		p      inventory.Position
		want   event.Qty
	}{
		{"no buffer", 0, pos(10, 0), event.Units(10)},
		{"reserved is held back", 0, pos(10, 4), event.Units(6)},
		{"buffer is held back", event.Units(2), pos(10, 4), event.Units(4)},
		{"fractional buffer", 1500, pos(3, 0), 1500},
		{"buffer equal to available", event.Units(6), pos(10, 4), 0},
		{"buffer above available", event.Units(8), pos(10, 4), 0},
		{"oversold location", 0, pos(2, 5), 0},
		{"negative on hand", event.Units(1), pos(-3, 0), 0},
		{"count plus movements", 0, inventory.Position{CountQty: event.Units(7), Delta: event.Units(-2)}, event.Units(5)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := (availability.Channel{Name: "web", Buffer: tc.buffer}).ATP(tc.p); got != tc.want {
				t.Errorf("ATP = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestChannelSells(t *testing.T) {
	t.Parallel()
	all := availability.Channel{Name: "web"}
	some := availability.Channel{Name: "market", Locations: map[string]bool{"s1": true}}
	none := availability.Channel{Name: "closed", Locations: map[string]bool{}}
	for _, tc := range []struct {
		ch   availability.Channel
		loc  string
		want bool
	}{
		{all, "s1", true}, {all, "anywhere", true},
		{some, "s1", true}, {some, "s2", false},
		{none, "s1", false},
	} {
		if got := tc.ch.Sells(tc.loc); got != tc.want {
			t.Errorf("%s.Sells(%s) = %v, want %v", tc.ch.Name, tc.loc, got, tc.want)
		}
	}
}

func TestUpdatesRespectChannelLocations(t *testing.T) {
	t.Parallel()
	channels := []availability.Channel{
		{Name: "web", Buffer: event.Units(1)},
		{Name: "market", Buffer: event.Units(2), Locations: map[string]bool{"s1": true}},
	}
	changed := map[inventory.Key]inventory.Position{
		{SKU: "JKT", Location: "s1"}: pos(10, 1),
		{SKU: "JKT", Location: "s2"}: pos(3, 0),
		{SKU: "HAT", Location: "s2"}: pos(0, 0),
	}
	causes := map[inventory.Key][]string{{SKU: "JKT", Location: "s1"}: {"sale-1", "sale-2"}}
	got := availability.Updates(channels, changed, 42, causes, now)

	type row struct {
		ch, sku, loc string
		avail        event.Qty
	}
	var rows []row
	for _, u := range got {
		rows = append(rows, row{u.Channel, u.SKU, u.Location, u.Available})
		if u.Seq != 42 || !u.At.Equal(now) {
			t.Errorf("%+v: seq %d at %v, want 42 at %v", u, u.Seq, u.At, now)
		}
	}
	// Sorted by SKU, location, channel; the market channel only at s1.
	want := []row{
		{"web", "HAT", "s2", 0},
		{"market", "JKT", "s1", event.Units(7)},
		{"web", "JKT", "s1", event.Units(8)},
		{"web", "JKT", "s2", event.Units(2)},
	}
	if !slices.Equal(rows, want) {
		t.Errorf("updates\n got %v\nwant %v", rows, want)
	}
	for _, u := range got {
		if u.SKU == "JKT" && u.Location == "s1" {
			if !slices.Equal(u.Events, []string{"sale-1", "sale-2"}) || u.OnHand != event.Units(10) || u.Reserved != event.Units(1) {
				t.Errorf("%s JKT@s1: events %v on hand %s reserved %s", u.Channel, u.Events, u.OnHand, u.Reserved)
			}
		} else if len(u.Events) != 0 {
			t.Errorf("%+v has causes it was not given", u)
		}
	}
}

func TestUpdatesCapCauses(t *testing.T) {
	t.Parallel()
	k := inventory.Key{SKU: "JKT", Location: "s1"}
	var ids []string
	for i := range 40 {
		ids = append(ids, fmt.Sprintf("e%d", i))
	}
	got := availability.Updates([]availability.Channel{{Name: "web"}}, map[inventory.Key]inventory.Position{k: pos(1, 0)}, 1,
		map[inventory.Key][]string{k: ids}, now)
	if len(got) != 1 {
		t.Fatalf("%d updates, want 1", len(got))
	}
	if ev := got[0].Events; len(ev) != 16 || ev[0] != "e24" || ev[15] != "e39" {
		t.Errorf("causes %v, want the newest 16 (e24…e39)", ev)
	}
}

func TestCauses(t *testing.T) {
	t.Parallel()
	k1 := inventory.Key{SKU: "JKT", Location: "s1"}
	k2 := inventory.Key{SKU: "HAT", Location: "s1"}
	ch := &inventory.Changes{Moves: []inventory.Move{
		{EventID: "sale-1", Key: k1},
		{EventID: "sale-1", Key: k1}, // two lines of one sale: named once
		{EventID: "sale-1", Key: k2},
		{EventID: "sale-2", Key: k1},
	}}
	got := availability.Causes(ch)
	if !slices.Equal(got[k1], []string{"sale-1", "sale-2"}) || !slices.Equal(got[k2], []string{"sale-1"}) {
		t.Errorf("causes %v", got)
	}
}

func update(ch, sku, loc string, avail int64, seq int64, events ...string) availability.Update {
	return availability.Update{Channel: ch, SKU: sku, Location: loc, Available: event.Units(avail), Seq: seq, Events: events, At: now}
}

// ready reports whether the subscription has been signalled, without
// waiting.
func ready(s *availability.Subscription) bool {
	select {
	case <-s.Ready():
		return true
	default:
		return false
	}
}

func TestBrokerPublishesOnlyChanges(t *testing.T) {
	t.Parallel()
	b := availability.NewBroker()
	sub := b.Subscribe(availability.Filter{})
	defer sub.Close()

	b.Publish([]availability.Update{update("web", "JKT", "s1", 5, 1, "a")})
	if got := sub.Take(); len(got) != 1 || got[0].Available != event.Units(5) {
		t.Fatalf("first value: %+v", got)
	}
	// Same availability again (on hand and reserved moved together): nothing
	// to tell subscribers.
	same := update("web", "JKT", "s1", 5, 2, "b")
	same.OnHand, same.Reserved = event.Units(7), event.Units(2)
	b.Publish([]availability.Update{same})
	if ready(sub) {
		if got := sub.Take(); len(got) != 0 {
			t.Fatalf("an unchanged value was published: %+v", got)
		}
	}
	b.Publish([]availability.Update{update("web", "JKT", "s1", 4, 3, "c")})
	if !ready(sub) {
		t.Fatal("a change did not signal Ready")
	}
	if got := sub.Take(); len(got) != 1 || got[0].Available != event.Units(4) || got[0].Seq != 3 {
		t.Fatalf("changed value: %+v", got)
	}
	if got := sub.Take(); got != nil {
		t.Errorf("Take after Take: %+v, want nothing", got)
	}
}

func TestBrokerCoalescesForASlowSubscriber(t *testing.T) {
	t.Parallel()
	b := availability.NewBroker()
	sub := b.Subscribe(availability.Filter{})
	defer sub.Close()

	// The subscriber reads nothing while 10 values of JKT and 3 of HAT are
	// published; it then gets one update per key, the newest, naming every
	// event that moved it.
	var jktCauses []string
	for i := range 10 {
		id := fmt.Sprintf("j%d", i)
		jktCauses = append(jktCauses, id)
		b.Publish([]availability.Update{update("web", "JKT", "s1", int64(20-i), int64(i+1), id)})
	}
	for i := range 3 {
		b.Publish([]availability.Update{update("web", "HAT", "s1", int64(i), int64(20+i), fmt.Sprintf("h%d", i))})
	}
	got := sub.Take()
	if len(got) != 2 {
		t.Fatalf("%d updates, want one per key: %+v", len(got), got)
	}
	// Oldest seq first.
	jkt, hat := got[0], got[1]
	if jkt.SKU != "JKT" || jkt.Available != event.Units(11) || jkt.Seq != 10 {
		t.Errorf("JKT %+v, want the newest value 11 at seq 10", jkt)
	}
	if !slices.Equal(jkt.Events, jktCauses) {
		t.Errorf("JKT causes %v, want all of %v", jkt.Events, jktCauses)
	}
	if hat.SKU != "HAT" || hat.Available != event.Units(2) || !slices.Equal(hat.Events, []string{"h0", "h1", "h2"}) {
		t.Errorf("HAT %+v", hat)
	}
}

func TestBrokerCoalescedCausesAreBounded(t *testing.T) {
	t.Parallel()
	b := availability.NewBroker()
	sub := b.Subscribe(availability.Filter{})
	defer sub.Close()
	for i := range 200 {
		b.Publish([]availability.Update{update("web", "JKT", "s1", int64(i), int64(i+1), fmt.Sprintf("e%d", i))})
	}
	got := sub.Take()
	if len(got) != 1 {
		t.Fatalf("%d updates", len(got))
	}
	ev := got[0].Events
	if len(ev) == 0 || len(ev) > 64 || ev[len(ev)-1] != "e199" {
		t.Errorf("coalesced causes: %d of them ending %v; want a bounded list ending with the newest", len(ev), ev[max(len(ev)-1, 0):])
	}
}

func TestBrokerCoalescingDoesNotAliasCauses(t *testing.T) {
	t.Parallel()
	b := availability.NewBroker()
	sub := b.Subscribe(availability.Filter{})
	defer sub.Close()
	first := make([]string, 1, 8) // spare capacity a careless append would write into
	first[0] = "a"
	b.Publish([]availability.Update{update("web", "JKT", "s1", 1, 1, first...)})
	b.Publish([]availability.Update{update("web", "JKT", "s1", 2, 2, "b")})
	cur := b.Current(availability.Filter{})
	if len(cur) != 1 || !slices.Equal(cur[0].Events, []string{"b"}) {
		t.Errorf("broker's last value %+v: coalescing leaked into it", cur)
	}
	if got := sub.Take(); len(got) != 1 || !slices.Equal(got[0].Events, []string{"a", "b"}) {
		t.Errorf("coalesced %+v", got)
	}
}

func TestBrokerFilters(t *testing.T) {
	t.Parallel()
	all := []availability.Update{
		update("web", "JKT", "s1", 1, 1),
		update("web", "JKT", "s2", 2, 1),
		update("web", "HAT", "s1", 3, 1),
		update("market", "JKT", "s1", 4, 1),
	}
	for _, tc := range []struct {
		f    availability.Filter
		want int
	}{
		{availability.Filter{}, 4},
		{availability.Filter{Channel: "web"}, 3},
		{availability.Filter{SKU: "JKT"}, 3},
		{availability.Filter{Location: "s1"}, 3},
		{availability.Filter{Channel: "web", SKU: "JKT", Location: "s2"}, 1},
		{availability.Filter{Channel: "nope"}, 0},
	} {
		t.Run(fmt.Sprintf("%+v", tc.f), func(t *testing.T) {
			t.Parallel()
			b := availability.NewBroker()
			sub := b.Subscribe(tc.f)
			defer sub.Close()
			b.Publish(all)
			got := sub.Take()
			if len(got) != tc.want {
				t.Fatalf("subscriber got %d updates, want %d: %+v", len(got), tc.want, got)
			}
			for _, u := range got {
				if !tc.f.Match(&u) {
					t.Errorf("%+v does not match the filter", u)
				}
			}
			if cur := b.Current(tc.f); len(cur) != tc.want {
				t.Errorf("Current: %d updates, want %d", len(cur), tc.want)
			}
			if tc.want == 0 && ready(sub) {
				t.Error("Ready signalled with nothing for this subscriber")
			}
		})
	}
}

func TestBrokerCurrent(t *testing.T) {
	t.Parallel()
	b := availability.NewBroker()
	if cur := b.Current(availability.Filter{}); len(cur) != 0 {
		t.Fatalf("an empty broker has %+v", cur)
	}
	b.Publish([]availability.Update{update("web", "JKT", "s1", 5, 1), update("web", "HAT", "s1", 1, 2)})
	b.Publish([]availability.Update{update("web", "JKT", "s1", 3, 3)})
	b.Publish([]availability.Update{update("web", "JKT", "s1", 3, 4)}) // unchanged: seq 3 stays
	cur := b.Current(availability.Filter{})
	if len(cur) != 2 {
		t.Fatalf("Current %+v, want 2 keys", cur)
	}
	// Sorted by seq: HAT (2), then JKT (3).
	if cur[0].SKU != "HAT" || cur[1].SKU != "JKT" || cur[1].Available != event.Units(3) || cur[1].Seq != 3 {
		t.Errorf("Current %+v", cur)
	}
}

func TestBrokerSeenPrimesWithoutSending(t *testing.T) {
	t.Parallel()
	b := availability.NewBroker()
	sub := b.Subscribe(availability.Filter{})
	defer sub.Close()

	b.Seen([]availability.Update{update("web", "JKT", "s1", 5, 10)})
	if ready(sub) || sub.Take() != nil {
		t.Fatal("Seen sent an update to a subscriber")
	}
	if cur := b.Current(availability.Filter{}); len(cur) != 1 || cur[0].Available != event.Units(5) {
		t.Errorf("Current after Seen: %+v", cur)
	}
	// The same value after a restart is not news…
	b.Publish([]availability.Update{update("web", "JKT", "s1", 5, 11)})
	if got := sub.Take(); len(got) != 0 {
		t.Errorf("a value equal to the primed one was sent: %+v", got)
	}
	// …a different one is.
	b.Publish([]availability.Update{update("web", "JKT", "s1", 4, 12)})
	if got := sub.Take(); len(got) != 1 || got[0].Available != event.Units(4) {
		t.Errorf("after a change: %+v", got)
	}
}

func TestBrokerCloseUnsubscribes(t *testing.T) {
	t.Parallel()
	b := availability.NewBroker()
	gone := b.Subscribe(availability.Filter{})
	stays := b.Subscribe(availability.Filter{})
	defer stays.Close()
	gone.Close()
	b.Publish([]availability.Update{update("web", "JKT", "s1", 5, 1)})
	if ready(gone) || gone.Take() != nil {
		t.Error("a closed subscription still receives updates")
	}
	if got := stays.Take(); len(got) != 1 {
		t.Errorf("the other subscription got %+v", got)
	}
	gone.Close() // twice is harmless
}

func TestBrokerConcurrentUse(t *testing.T) {
	t.Parallel()
	// Publishers and a reader at once (for the race detector): the reader
	// ends with the last value of every key.
	b := availability.NewBroker()
	sub := b.Subscribe(availability.Filter{})
	defer sub.Close()
	done, stop := make(chan struct{}), make(chan struct{})
	last := map[availability.Key]availability.Update{}
	take := func() {
		for _, u := range sub.Take() {
			if prev, ok := last[u.Key()]; ok && prev.Seq > u.Seq {
				t.Errorf("%v went back from seq %d to %d", u.Key(), prev.Seq, u.Seq)
			}
			last[u.Key()] = u
		}
	}
	go func() {
		defer close(done)
		for {
			select {
			case <-sub.Ready():
				take()
			case <-stop:
				take()
				return
			}
		}
	}()
	finished := make(chan struct{})
	for p := range 4 {
		go func() {
			defer func() { finished <- struct{}{} }()
			sku := fmt.Sprintf("SKU-%d", p)
			for i := range 500 {
				b.Publish([]availability.Update{update("web", sku, "s1", int64(i), int64(i+1))})
			}
		}()
	}
	for range 4 {
		<-finished
	}
	close(stop)
	<-done
	for p := range 4 {
		k := availability.Key{Channel: "web", SKU: fmt.Sprintf("SKU-%d", p), Location: "s1"}
		if u := last[k]; u.Available != event.Units(499) {
			t.Errorf("%v ended at %s, want 499", k, u.Available)
		}
	}
}
