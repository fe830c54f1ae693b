// Package llm is the optional language-model fallback of the notes parser:
// a client for any OpenAI-compatible chat-completions API (OpenAI, Azure
// OpenAI's compatible endpoint, vLLM, llama.cpp server, Ollama, LM Studio),
// asked to read a cashier note as a discount when the deterministic parser
// (internal/mapping/notes) is not confident enough.
//
// It is off by default and must never hold anything up: Queue runs a
// bounded number of requests on a bounded queue, Submit never blocks (a
// full queue refuses the note, which then goes to a person as it would
// have without a model), and every request has a timeout.
//
// The model sees only redacted text: the client redacts again what it is
// given, so a card number cannot reach the model even if a caller forgets.
// Its answer is checked against the JSON schema and the taxonomy before it
// is used: an unknown reason, a kind outside percent/amount/fixed_price, a
// value that is not a positive decimal, or a value that is not in the
// note is rejected, not repaired.
package llm
