package inbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/store"
)

// Action is a request to act on an exception.
type Action struct {
	// Name is a built-in (acknowledge, resolve, assign, reopen, comment)
	// or a registered action.
	Name string `json:"action"`
	// Actor is who asks: an API key's name, "cli:alice".
	Actor string `json:"-"`
	Note  string `json:"note,omitempty"`
	// Assignee is who the exception goes to (assign; "" clears it).
	Assignee string `json:"assignee,omitempty"`
	// Suggestion is the ID of the suggestion acted upon, if any.
	Suggestion string `json:"suggestion,omitempty"`
}

// Result is what a handler did.
type Result struct {
	// State is where the handler moves the exception: "" keeps it,
	// Acknowledged (work under way, e.g. a replay requested) or Resolved.
	// A handler never reopens.
	State State
	// Note is added to the trail line.
	Note string
	// Detail is recorded, as JSON, in the trail line.
	Detail any
}

// Handler performs a registered action.
type Handler interface {
	Handle(ctx context.Context, x Exception, a Action, s *Suggestion) (Result, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, x Exception, a Action, s *Suggestion) (Result, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, x Exception, a Action, s *Suggestion) (Result, error) {
	return f(ctx, x, a, s)
}

// Register adds the handler of an action. Built-in names and names taken
// are refused.
func (in *Inbox) Register(action string, h Handler) error {
	switch {
	case action == "" || strings.ContainsAny(action, " \t\n/"):
		return fmt.Errorf("inbox: action name %q must be one word", action)
	case IsBuiltin(action):
		return fmt.Errorf("inbox: %q is a built-in action", action)
	case in.handlers[action] != nil:
		return fmt.Errorf("inbox: action %q is already registered", action)
	case h == nil:
		return fmt.Errorf("inbox: action %q: nil handler", action)
	}
	in.handlers[action] = h
	return nil
}

// MustRegister is Register for wiring, where a clash is a programming
// error.
func (in *Inbox) MustRegister(action string, h Handler) {
	if err := in.Register(action, h); err != nil {
		panic(err)
	}
}

// Act performs an action on an exception and records it in the trail. A
// built-in moves the exception through the state machine (an action its
// state does not allow fails with illegal_transition, naming the states it
// needs). A registered action runs its handler — only on an exception that
// offers it, while the exception is open or acknowledged — and then
// applies the handler's result; a handler's failure is recorded in the
// trail too, and returned as action_failed.
func (in *Inbox) Act(ctx context.Context, id int64, a Action) (Exception, error) {
	a.Name = strings.TrimSpace(a.Name)
	if a.Actor == "" {
		return Exception{}, errorf(CodeInvalid, "action %q on exception %d: no actor", a.Name, id)
	}
	if a.Name == "" {
		return Exception{}, errorf(CodeInvalid, "no action given for exception %d (use %s, or a registered action)", id, strings.Join(builtinOrder, ", "))
	}
	x, err := in.Get(ctx, id)
	if err != nil {
		return Exception{}, err
	}
	var sugg *Suggestion
	if a.Suggestion != "" {
		s, ok := x.Suggestion(a.Suggestion)
		if !ok {
			return Exception{}, errorf(CodeInvalid, "exception %d has no suggestion %q", id, a.Suggestion)
		}
		if s.Action != "" && s.Action != a.Name {
			return Exception{}, errorf(CodeInvalid, "suggestion %q of exception %d is carried out by %q, not %q", a.Suggestion, id, s.Action, a.Name)
		}
		sugg = &s
	}
	if a.Name == ActComment && strings.TrimSpace(a.Note) == "" {
		return Exception{}, errorf(CodeInvalid, "comment on exception %d: note is empty", id)
	}
	detail := map[string]any{}
	if a.Suggestion != "" {
		detail["suggestion"] = a.Suggestion
	}
	if IsBuiltin(a.Name) {
		if _, err := Next(x.State, a.Name); err != nil {
			return Exception{}, in.illegal(id, err)
		}
		return in.apply(ctx, id, a, detail, func(from State) (State, error) {
			to, err := Next(from, a.Name)
			if err != nil {
				return "", in.illegal(id, err)
			}
			return to, nil
		})
	}
	h := in.handlers[a.Name]
	if h == nil {
		return Exception{}, errorf(CodeUnknownAction, "no action %q (this exception allows: %s)", a.Name, strings.Join(x.Actions, ", "))
	}
	if !slices.Contains(x.offers, a.Name) {
		return Exception{}, errorf(CodeUnknownAction, "exception %d (%s) does not offer %q (it allows: %s)", id, x.Kind, a.Name, strings.Join(x.Actions, ", "))
	}
	if !slices.Contains(registeredFrom, x.State) {
		return Exception{}, errorf(CodeIllegalTransition, "cannot %s exception %d: it is %s (%s needs %s; reopen it first)",
			a.Name, id, x.State, a.Name, stateList(registeredFrom))
	}
	res, herr := h.Handle(ctx, x, a, sugg)
	if herr != nil {
		detail["error"] = herr.Error()
		failed := a
		failed.Name = a.Name + "_failed"
		if _, err := in.apply(ctx, id, failed, detail, func(from State) (State, error) { return from, nil }); err != nil {
			return Exception{}, errors.Join(&Error{Code: CodeActionFailed, Message: fmt.Sprintf("%s exception %d", a.Name, id), Err: herr}, err)
		}
		return Exception{}, &Error{Code: CodeActionFailed, Message: fmt.Sprintf("%s exception %d", a.Name, id), Err: herr}
	}
	if res.Note != "" {
		a.Note = strings.TrimSpace(a.Note + "\n" + res.Note)
	}
	if res.Detail != nil {
		detail["result"] = res.Detail
	}
	return in.apply(ctx, id, a, detail, func(from State) (State, error) { return handlerNext(from, res.State), nil })
}

func (in *Inbox) illegal(id int64, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return &Error{Code: e.Code, Message: fmt.Sprintf("exception %d: %s", id, e.Message)}
	}
	return err
}

// apply writes an action's effect and its trail line in one transaction,
// deciding the new state from the state read there (another action may
// have landed since the caller looked).
func (in *Inbox) apply(ctx context.Context, id int64, a Action, detail map[string]any, next func(State) (State, error)) (Exception, error) {
	var out Exception
	err := in.store.Inbox(ctx, func(tx *store.InboxTx) error {
		cur, err := tx.ByID(ctx, id)
		if err != nil {
			return err
		}
		if cur == nil {
			return errorf(CodeNotFound, "no exception %d", id)
		}
		from := State(cur.State)
		to, err := next(from)
		if err != nil {
			return err
		}
		now := in.now().UTC()
		cur.State, cur.UpdatedAt = string(to), now
		switch {
		case to == Resolved && from != Resolved:
			cur.ResolvedAt = now
		case to.Active():
			cur.ResolvedAt = time.Time{}
		}
		if a.Name == ActAssign {
			detail["assignee"] = a.Assignee
			cur.Assignee = strings.TrimSpace(a.Assignee)
		}
		if err := tx.Update(ctx, cur); err != nil {
			return err
		}
		var d any
		if len(detail) > 0 {
			d = detail
		}
		ds, err := marshalDetail(d)
		if err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, store.ExceptionAudit{ExceptionID: id, At: now, Actor: a.Actor, Action: a.Name,
			FromState: string(from), ToState: string(to), Note: a.Note, Detail: ds}); err != nil {
			return err
		}
		out, err = in.fromRow(cur)
		return err
	})
	if err != nil {
		return Exception{}, err
	}
	return in.Get(ctx, out.ID)
}
