package bai2

import (
	"fmt"
	"strconv"

	"github.com/tillsync/tillsync/internal/settlement"
)

// codeInfo is what tillsync knows of a BAI2 detail type code.
type codeInfo struct {
	typ  settlement.Type
	name string
}

// detailCodes maps the detail type codes seen in retail and treasury bank
// files to a type, with their names from Appendix A ("Uniform BAI2 type
// codes") of the specification. Other codes keep their raw code and type
// "other"; whether they are credits or debits follows from their range.
var detailCodes = map[int]codeInfo{
	108: {settlement.TypeOther, "Credit (Any Type)"},
	115: {settlement.TypeDeposit, "Lockbox Deposit"},
	116: {settlement.TypeDeposit, "Item in Lockbox Deposit"},
	118: {settlement.TypeAdjustment, "Lockbox Adjustment Credit"},
	142: {settlement.TypeTransfer, "ACH Credit Received"},
	143: {settlement.TypeTransfer, "Item in ACH Deposit"},
	145: {settlement.TypeTransfer, "ACH Concentration Credit"},
	147: {settlement.TypeCardSettlement, "Individual Bank Card Deposit"},
	155: {settlement.TypeDirectDebit, "Preauthorized Draft Credit"},
	164: {settlement.TypeTransfer, "Corporate Trade Payment Credit"},
	165: {settlement.TypeTransfer, "Preauthorized ACH Credit"},
	166: {settlement.TypeTransfer, "ACH Settlement"},
	168: {settlement.TypeReversal, "ACH Return Item or Adjustment Settlement"},
	169: {settlement.TypeTransfer, "Miscellaneous ACH Credit"},
	171: {settlement.TypeDeposit, "Individual Loan Deposit"},
	172: {settlement.TypeAdjustment, "Deposit Correction"},
	173: {settlement.TypeDeposit, "Bank-Prepared Deposit"},
	174: {settlement.TypeDeposit, "Other Deposit"},
	175: {settlement.TypeDeposit, "Check Deposit Package"},
	176: {settlement.TypeDeposit, "Re-presented Check Deposit"},
	184: {settlement.TypeDeposit, "Draft Deposit"},
	187: {settlement.TypeDeposit, "Cash Letter Credit"},
	189: {settlement.TypeAdjustment, "Cash Letter Adjustment"},
	191: {settlement.TypeTransfer, "Individual Incoming Internal Money Transfer"},
	195: {settlement.TypeTransfer, "Incoming Money Transfer"},
	196: {settlement.TypeAdjustment, "Money Transfer Adjustment"},
	201: {settlement.TypeTransfer, "Individual Automatic Transfer Credit"},
	206: {settlement.TypeTransfer, "Book Transfer Credit"},
	208: {settlement.TypeTransfer, "Individual International Money Transfer Credit"},
	242: {settlement.TypeInterest, "Collection of Interest Income"},
	252: {settlement.TypeReversal, "Debit Reversal"},
	254: {settlement.TypeReversal, "Posting Error Correction Credit"},
	255: {settlement.TypeReversal, "Check Posted and Returned"},
	257: {settlement.TypeReversal, "Individual ACH Return Item"},
	258: {settlement.TypeReversal, "ACH Reversal Credit"},
	266: {settlement.TypeReversal, "Return Item"},
	275: {settlement.TypeTransfer, "ZBA Credit"},
	277: {settlement.TypeTransfer, "ZBA Credit Transfer"},
	295: {settlement.TypeDeposit, "ATM Credit"},
	301: {settlement.TypeDeposit, "Commercial Deposit"},
	346: {settlement.TypeInterest, "Sweep Interest Income"},
	354: {settlement.TypeInterest, "Interest Credit"},
	355: {settlement.TypeInterest, "Investment Interest"},
	357: {settlement.TypeAdjustment, "Credit Adjustment"},
	359: {settlement.TypeInterest, "Interest Adjustment Credit"},
	366: {settlement.TypeDeposit, "Currency and Coin Deposited"},
	395: {settlement.TypeReversal, "Check Reversal"},
	397: {settlement.TypeAdjustment, "Float Adjustment"},
	398: {settlement.TypeFee, "Miscellaneous Fee Refund"},
	399: {settlement.TypeOther, "Miscellaneous Credit"},
	408: {settlement.TypeAdjustment, "Float Adjustment"},
	409: {settlement.TypeOther, "Debit (Any Type)"},
	445: {settlement.TypeTransfer, "ACH Concentration Debit"},
	451: {settlement.TypeDirectDebit, "ACH Debit Received"},
	455: {settlement.TypeDirectDebit, "Preauthorized ACH Debit"},
	462: {settlement.TypeDirectDebit, "Account Holder Initiated ACH Debit"},
	466: {settlement.TypeTransfer, "ACH Settlement"},
	468: {settlement.TypeReversal, "ACH Return Item or Adjustment Settlement"},
	469: {settlement.TypeDirectDebit, "Miscellaneous ACH Debit"},
	474: {settlement.TypeCheque, "Certified Check Debit"},
	475: {settlement.TypeCheque, "Check Paid"},
	491: {settlement.TypeTransfer, "Individual Outgoing Internal Money Transfer"},
	493: {settlement.TypeTransfer, "Customer Terminal Initiated Money Transfer"},
	495: {settlement.TypeTransfer, "Outgoing Money Transfer"},
	496: {settlement.TypeAdjustment, "Money Transfer Adjustment"},
	501: {settlement.TypeTransfer, "Individual Automatic Transfer Debit"},
	506: {settlement.TypeTransfer, "Book Transfer Debit"},
	508: {settlement.TypeTransfer, "Individual International Money Transfer Debits"},
	552: {settlement.TypeReversal, "Credit Reversal"},
	554: {settlement.TypeReversal, "Posting Error Correction Debit"},
	555: {settlement.TypeReversal, "Deposited Item Returned"},
	557: {settlement.TypeReversal, "Individual ACH Return Item"},
	558: {settlement.TypeReversal, "ACH Reversal Debit"},
	564: {settlement.TypeFee, "Overdraft Fee"},
	566: {settlement.TypeReversal, "Return Item"},
	567: {settlement.TypeFee, "Return Item Fee"},
	575: {settlement.TypeTransfer, "ZBA Debit"},
	577: {settlement.TypeTransfer, "ZBA Debit Transfer"},
	595: {settlement.TypeWithdrawal, "ATM Debit"},
	631: {settlement.TypeAdjustment, "Debit Adjustment"},
	654: {settlement.TypeInterest, "Interest Debit"},
	659: {settlement.TypeInterest, "Interest Adjustment Debit"},
	661: {settlement.TypeFee, "Account Analysis Fee"},
	666: {settlement.TypeWithdrawal, "Currency and Coin Shipped"},
	694: {settlement.TypeReversal, "Deposit Reversal"},
	695: {settlement.TypeAdjustment, "Deposit Correction Debit"},
	698: {settlement.TypeFee, "Miscellaneous Fees"},
	699: {settlement.TypeOther, "Miscellaneous Debit"},
}

// nonMonetary is the detail code for text-only information (Appendix A):
// such records carry no amount and are not transactions.
const nonMonetary = 890

// parseTypeCode reads a three-digit type code.
func parseTypeCode(v string) (int, error) {
	if len(v) != 3 || v[0] < '0' || v[0] > '9' || v[1] < '0' || v[1] > '9' || v[2] < '0' || v[2] > '9' {
		return 0, fmt.Errorf("type code %q is not three digits", v)
	}
	n, _ := strconv.Atoi(v)
	return n, nil
}

// detailDirection says whether a detail type code is a credit or a debit,
// by the ranges of the specification: 100–399 credits, 400–699 debits,
// 720–728 loan credits, 760 loan debit, and the customized ranges 920–959
// (credits) and 960–999 (debits). Status codes (001–099, 700–719, 900–919)
// and unassigned codes are not details.
func detailDirection(code int) (settlement.Direction, error) {
	switch {
	case code >= 100 && code <= 399, code >= 720 && code <= 728, code >= 920 && code <= 959:
		return settlement.Credit, nil
	case code >= 400 && code <= 699, code == 760, code >= 960 && code <= 999:
		return settlement.Debit, nil
	case code < 100, code >= 900 && code <= 919, code >= 700 && code <= 719:
		return "", fmt.Errorf("type code %03d is an account status code, not a transaction detail", code)
	}
	return "", fmt.Errorf("type code %03d is neither a credit nor a debit code", code)
}

// isStatus reports whether a summary type code reports a balance (status),
// whose amount may be signed.
func isStatus(code int) bool {
	return code < 100 || (code >= 700 && code <= 719) || (code >= 900 && code <= 919)
}
