package erpfake_test

import (
	"testing"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/erp/erpfake"
	"github.com/tillsync/tillsync/internal/erp/erptest"
)

// The fake passes the same suite as every real connector, so engine tests
// built on it can be trusted.
func TestConformance(t *testing.T) {
	t.Parallel()
	erptest.Run(t, func(t *testing.T) *erptest.Target {
		f := erpfake.New()
		f.Batch = 10
		return &erptest.Target{
			Connector:       f,
			Kinds:           []erp.Kind{erp.CashSale, erp.CashRefund, erp.InventoryAdjustment, erp.InventoryCount, erp.TransferOrder, erp.TransferReceipt, erp.SalesOrder, erp.Fulfilment, erp.OrderCancel, erp.Summary},
			Records:         f.Records,
			Throttle:        func() { f.Force(erpfake.Throttle) },
			DropAfterCommit: func() { f.Force(erpfake.Drop) },
			Invalid: func(id string) erp.Document {
				d := erptest.Sample(erp.CashSale, id)
				d.Lines[0].SKU = erpfake.InvalidSKU
				return d
			},
		}
	})
}
