package hub_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/rebalance"
)

// A transfer proposal in the hub's inbox, approved through the API by an
// operator, ships: its TransferOut is in the log and the ledger, and
// NetSuite gets the transfer order once, however often it is approved.
func TestTransferProposalApprovedThroughTheAPI(t *testing.T) {
	t.Parallel()
	h, _, ns := inboxHub(t)
	postAll(t, h, evsOf(et.Receive("s1-rcv-1", "s1", at(0), et.L("JKT", 5))))
	p := rebalance.Proposal{ID: "TR-2026-11-27-JKT-s1-s2", AsOf: at(1), SKU: "JKT", From: "s1", To: "s2",
		Quantity: 2 * et.L("JKT", 1).Quantity, PackSize: 1, Packs: 2}
	x, _, err := h.Inbox().Raise(context.Background(), rebalance.Problem(p))
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]string{"action": rebalance.ActApprove}
	apiError(t, h.do(t, http.MethodPost, "/v1/inbox/"+jsonID(x.ID)+"/actions", veraKey, body), http.StatusForbidden, "forbidden")
	got := decode[inbox.Exception](t, h.do(t, http.MethodPost, "/v1/inbox/"+jsonID(x.ID)+"/actions", ottoKey, body), http.StatusOK)
	if got.State != inbox.Resolved {
		t.Fatalf("after approval: %s", got.State)
	}
	out := p.ID + "-out"
	eventually(t, 10*time.Second, "NetSuite to hold the transfer order", func() bool {
		return ns.Sim().Stats().Records[out] == 1
	})
	// Approving again (reopened by someone) emits nothing new.
	_ = decode[inbox.Exception](t, h.do(t, http.MethodPost, "/v1/inbox/"+jsonID(x.ID)+"/actions", ottoKey, map[string]string{"action": "reopen"}), http.StatusOK)
	_ = decode[inbox.Exception](t, h.do(t, http.MethodPost, "/v1/inbox/"+jsonID(x.ID)+"/actions", ottoKey, body), http.StatusOK)
	h.caughtUp(t, 10*time.Second)
	if st := ns.Sim().Stats(); st.Records[out] != 1 || st.Duplicates != 0 {
		t.Errorf("NetSuite holds the transfer %d times (%d duplicates), want once", st.Records[out], st.Duplicates)
	}
}
