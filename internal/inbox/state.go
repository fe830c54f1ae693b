package inbox

import (
	"slices"
	"strings"
)

// Built-in actions, available on every exception in the states below.
const (
	// ActAcknowledge: open → acknowledged.
	ActAcknowledge = "acknowledge"
	// ActResolve: open or acknowledged → resolved.
	ActResolve = "resolve"
	// ActAssign: set (or, with an empty assignee, clear) the assignee of
	// an open or acknowledged exception; the state stays.
	ActAssign = "assign"
	// ActReopen: resolved or auto_resolved → open.
	ActReopen = "reopen"
	// ActComment: add a note in any state; the state stays.
	ActComment = "comment"
)

// Trail actions only the system records.
const (
	trailRaised      = "raised"
	trailRecurred    = "recurred"
	trailReopened    = "reopened"
	trailAutoResolve = "auto_resolve"
)

type transition struct {
	from []State
	to   State // "" keeps the state
}

var builtins = map[string]transition{
	ActAcknowledge: {from: []State{Open}, to: Acknowledged},
	ActResolve:     {from: []State{Open, Acknowledged}, to: Resolved},
	ActAssign:      {from: []State{Open, Acknowledged}},
	ActReopen:      {from: []State{Resolved, AutoResolved}, to: Open},
	ActComment:     {from: States},
}

// builtinOrder is the order actions are listed in.
var builtinOrder = []string{ActAcknowledge, ActAssign, ActResolve, ActReopen, ActComment}

// IsBuiltin reports whether an action is one of the built-ins.
func IsBuiltin(action string) bool { _, ok := builtins[action]; return ok }

// Next returns the state a built-in action leads to from a state, or an
// illegal_transition error naming the states it needs.
func Next(from State, action string) (State, error) {
	t, ok := builtins[action]
	if !ok {
		return "", errorf(CodeUnknownAction, "%q is not a built-in action", action)
	}
	if !slices.Contains(t.from, from) {
		return "", errorf(CodeIllegalTransition, "cannot %s an exception that is %s (%s needs %s)", action, from, action, stateList(t.from))
	}
	if t.to == "" {
		return from, nil
	}
	return t.to, nil
}

// registeredFrom are the states a registered action runs in.
var registeredFrom = []State{Open, Acknowledged}

// handlerNext is the state a handler's result leads to: it may only move
// an exception forward (acknowledge or resolve it), never reopen it.
func handlerNext(from State, want State) State {
	switch {
	case want == Acknowledged && from == Open:
		return Acknowledged
	case want == Resolved && from.Active():
		return Resolved
	}
	return from
}

// allowed lists what can be done to an exception in its state.
func allowed(state State, offers []string) []string {
	out := []string{}
	for _, a := range builtinOrder {
		if slices.Contains(builtins[a].from, state) {
			out = append(out, a)
		}
	}
	if state.Active() {
		out = append(out, offers...)
	}
	return out
}

func stateList(ss []State) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = string(s)
	}
	return strings.Join(names, " or ")
}
