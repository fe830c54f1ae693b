// Package mapping owns the item catalog and SKU repair: the catalog of
// items (SKU, GTINs, description, brand, variant attributes) imported from
// CSV, JSON or an ERP's item list, per-source mappings of POS codes to
// SKUs, and the Resolver that proposes catalog SKUs for a code a till sent
// that the catalog does not know, each with a calibrated confidence.
//
// The Resolver draws candidates from identifier normalisation (package
// gtin), variant patterns (size and colour tokens in any order and
// spelling), fuzzy code similarity tuned to real keying and reading errors
// (a deletion-neighbourhood index with weighted edits for transpositions,
// keyboard neighbours and OCR confusions), description similarity (an
// inverted token index with character trigram fallback) and rules learned
// from human decisions (Rules). Confidence comes from a calibration table
// measured on a labelled development set (see Calibration and
// calibration.json), or on synthetic codes made from the catalog itself
// (Options.SelfCalibrate). docs/mapping.md has the evidence kinds, the
// calibration and the evaluation.
//
// It must not hold events, quarantine them or write the ledger: the caller
// quarantines an event line whose code has no auto-applied answer, shows
// the Suggestion in the inbox, and replays after Resolver.Confirm.
package mapping
