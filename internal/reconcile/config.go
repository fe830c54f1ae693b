package reconcile

import (
	"errors"
	"fmt"

	"github.com/tillsync/tillsync/internal/event"
)

// Config tunes matching. The zero value is not valid; start from
// DefaultConfig.
type Config struct {
	// Tolerance is how far a settled amount may be from the tender's, in
	// minor units either way (0: exact).
	Tolerance event.Amount `yaml:"tolerance" json:"tolerance"`
	// WindowDays is how many days after the sale a settlement line may be
	// booked (a line may also be booked the day before, for zone skew). It is
	// also how long an item may stay open before it is an exception.
	WindowDays int `yaml:"window_days" json:"window_days"`
	// DepositWindowDays is how many days after its batch (or the tenders'
	// day) a deposit may reach the bank.
	DepositWindowDays int `yaml:"deposit_window_days" json:"deposit_window_days"`
	// MaxFeeBP is the most a deposit may fall short of a day's card tenders
	// of a store, as fees, in basis points of their gross (250 = 2.5 %),
	// when the deposit does not state its fees.
	MaxFeeBP int64 `yaml:"max_fee_bp" json:"max_fee_bp"`
	// SubsetCap is the most lines of a batch searched for the residue when a
	// deposit is the batch less a few lines (one to three of them).
	SubsetCap int `yaml:"subset_cap" json:"subset_cap"`
}

// DefaultConfig is exact amounts, five days to settle, ten to deposit, fees
// up to 5 %, and residue search over batches of up to 200 lines.
func DefaultConfig() Config {
	return Config{Tolerance: 0, WindowDays: 5, DepositWindowDays: 10, MaxFeeBP: 500, SubsetCap: 200}
}

// Validate names every field that is out of range.
func (c Config) Validate() error {
	var errs []error
	if c.Tolerance < 0 {
		errs = append(errs, fmt.Errorf("reconcile: tolerance %d is negative (minor units either way)", c.Tolerance))
	}
	if c.WindowDays < 0 || c.WindowDays > 90 {
		errs = append(errs, fmt.Errorf("reconcile: window_days %d: use 0 to 90 days", c.WindowDays))
	}
	if c.DepositWindowDays < 0 || c.DepositWindowDays > 90 {
		errs = append(errs, fmt.Errorf("reconcile: deposit_window_days %d: use 0 to 90 days", c.DepositWindowDays))
	}
	if c.MaxFeeBP < 0 || c.MaxFeeBP >= 10000 {
		errs = append(errs, fmt.Errorf("reconcile: max_fee_bp %d: use 0 to 9999 basis points", c.MaxFeeBP))
	}
	if c.SubsetCap < 0 || c.SubsetCap > 2000 {
		errs = append(errs, fmt.Errorf("reconcile: subset_cap %d: use 0 to 2000 lines", c.SubsetCap))
	}
	return errors.Join(errs...)
}
