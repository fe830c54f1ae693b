// Package web is the operator's dashboard the hub serves under /ui/:
// server-rendered pages (html/template, assets embedded in the binary)
// for the overview charts, stores' sync health, inventory and ledger
// history, destinations and their dead letters, the exceptions inbox,
// end-of-day reconciliation and the audit log; live widgets over
// Server-Sent Events, coalesced to at most one update per second each.
//
// People log in with a hub API key; the dashboard keeps server-side
// sessions (random 32-byte IDs in HttpOnly, SameSite=Strict cookies,
// __Host- and Secure under TLS, idle and absolute expiry), checks a
// per-session CSRF token and the Origin on every form post, enforces the
// same roles as the JSON API (viewer reads, operator acts, admin reads the
// audit log) and writes every action and refusal to the audit trail.
//
// It owns no data: it reads and acts through the store, the inbox and the
// functions the hub passes in Options, and must not hold business logic
// the JSON API lacks.
package web
