// Package camt053 reads ISO 20022 bank-to-customer statements
// (camt.053.001.02 to camt.053.001.08, told apart by the Document
// namespace) into settlement transactions: one per entry (Ntry), with the
// transactions of a batch booking (NtryDtls/Btch, or several TxDtls) as its
// children.
//
// It streams: the statement's header elements are read as they come and
// each entry is decoded on its own (xml.Decoder.Token, then DecodeElement per
// Ntry), so a file of any number of entries needs the memory of one entry.
//
// Per entry it reads Amt with its Ccy, CdtDbtInd, RvslInd, Sts (a code in
// .02–.06, Sts/Cd from .07), BookgDt and ValDt as Dt or DtTm, AcctSvcrRef,
// BkTxCd (Domn/Fmly/SubFmlyCd, or Prtry), AddtlNtryInf and card data; per
// transaction detail Refs (EndToEndId, InstrId, PmtInfId, TxId, MndtId),
// Amt and CdtDbtInd (.03 and later) or AmtDtls/TxAmt (.02), AmtDtls/InstdAmt,
// the counterparty's name, RmtInf (Ustrd, Strd/CdtrRefInf) and AddtlTxInf. A
// card's PAN is reduced to its last four digits as it is read.
//
// Control totals, per statement (each a settlement.Problem naming the
// statement's ID and element): the opening booked balance (OPBD, else PRCD)
// plus the booked entries equals the closing booked balance (CLBD) when both
// are present; TxsSummry's counts, sums and net, when present, match the
// entries; a batch's NbOfTxs and TtlAmt, and the sum of its transaction
// details, match the entry.
package camt053
