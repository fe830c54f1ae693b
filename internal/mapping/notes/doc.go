// Package notes turns the free text a cashier types into a note or a
// discount reason ("emp disc 20%", "pm walmart 24.99 ok'd by Sam",
// "dmgd box $5 off") into a structured discount: a reason code from a
// configurable taxonomy, a kind (percent, amount or fixed_price), a decimal
// value, and the currency, coupon code, competitor and approver when the
// note names them, with a confidence between 0 and 1.
//
// The parser is deterministic: a tokenizer that normalises abbreviations
// and typos (Damerau–Levenshtein distance against a vocabulary), phrase
// rules for the reasons, and an extractor for amounts in the forms cashiers
// type ("$5", "5 off", "5,00 €", "10%", "15 pct", "half off", "bogo").
// Notes are redacted (internal/redact) before anything reads them: a card
// number typed into a note never reaches the parser, its output, or the
// optional language-model fallback (internal/mapping/llm).
//
// Conventions the labelled sets in testdata follow, and the parser keeps:
//   - "N off", "-N", "N less" without a percent sign is an amount;
//     "N%", "N pct", "N percent", "half off" (50), "quarter off" (25) are
//     percentages.
//   - A price the item is sold at ("price match walmart 24.99",
//     "sold for 20", "markdown to 14.99", "promo price 9.99") is a
//     fixed_price; a bare number after price match, clearance or promotion
//     is one too.
//   - A bare whole number after a reason that is normally a percentage
//     (employee, military, senior, student, loyalty) is a percentage:
//     "team member disc 20" is 20 %.
//   - "bogo" and "buy N get M (free)" describe the free line: percent 100;
//     "bogo 50%" / "bogo half price" is percent 50.
//   - When a note carries a specific reason and a manager override
//     ("dmgd box mgr ovrd 10 off"), the specific reason wins and the
//     manager is the approver; of two specific reasons the first one typed
//     wins.
//   - A reason without a value ("emp disc", "pm", "clearance") is a
//     discount with that reason and no kind or value.
//
// The package must not do I/O: it neither calls a model nor stores
// results; callers decide what to auto-apply with Result.Confidence and
// Config.Threshold.
package notes
