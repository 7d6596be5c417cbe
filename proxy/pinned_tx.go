package proxy

// txView is a pinned client's transaction state as its commands set it, in
// client order: inside MULTI, and/or watching keys. stale means that state
// lives on a backend connection that is gone (the primary changed): the
// transaction straddles the switch, so it must fail, and nothing of it may
// run on the new primary.
type txView struct {
	multi, watch, stale bool
}

// dropped is the view once the backend connection it lives on is gone.
func (v txView) dropped() txView {
	v.stale = v.stale || v.multi || v.watch
	return v.norm()
}

// norm clears stale when nothing is open.
func (v txView) norm() txView {
	if !v.multi && !v.watch {
		v.stale = false
	}
	return v
}

// after is the view once a command sent to the backend ran.
func (v txView) after(name string) txView {
	switch name {
	case "multi":
		v.multi = true
	case "exec", "discard":
		if v.multi {
			return txView{}
		}
	case "watch":
		if !v.multi {
			v.watch = true
		}
	case "unwatch":
		if !v.multi {
			v.watch = false
		}
	case "reset":
		return txView{}
	}
	return v.norm()
}

// route decides what to do with e given the transaction state v before
// it: answer it here (a transaction that straddled a switch, a write whose
// connection broke) or send it (pending). It records e.pre and e.post.
func (s *pinnedSession) route(e *entry, v txView) {
	e.pre, e.post = v, v
	switch {
	case v.stale && v.multi && e.name != "reset":
		switch e.name {
		case "exec":
			e.post = txView{}
			if e.lost {
				// It may have run on the old primary.
				s.p.met.ambiguous.Inc()
				s.answer(e, []byte(replyAmbiguous))
			} else {
				s.answer(e, []byte(replyTxAborted))
			}
		case "discard":
			e.post = txView{}
			s.answer(e, []byte(replyOK))
		case "multi":
			s.answer(e, []byte("-ERR MULTI calls can not be nested\r\n"))
		default:
			s.answer(e, []byte(replyTxQueued))
		}
	case (v.stale || e.lost) && (e.name == "multi" || e.name == "watch"):
		// A WATCH whose keys were forgotten with the old connection (or a
		// MULTI or WATCH that may have run there): EXEC must fail, so the
		// transaction is answered here from now on.
		e.post = txView{multi: v.multi || e.name == "multi", watch: v.watch || e.name == "watch", stale: true}
		s.answer(e, []byte(replyOK))
	case e.lost && !e.replayable():
		s.p.met.ambiguous.Inc()
		s.answer(e, []byte(replyAmbiguous))
	default:
		e.post = v.after(e.name)
		s.setStatus(e, entryPending)
	}
}

// replan runs after the backend connection was dropped: from the first
// command not answered yet, every command is routed again against the
// transaction state as the switch left it. With fail set (no primary within
// the hold timeout), what would be sent is answered with its last refusal,
// or fail, instead.
func (s *pinnedSession) replan(fail []byte) {
	first := -1
	for i, e := range s.entries {
		if e.status != entryDone {
			first = i
			break
		}
	}
	if first < 0 {
		s.view = s.view.dropped()
		return
	}
	v := s.entries[first].pre.dropped()
	for _, e := range s.entries[first:] {
		if e.status == entryDone {
			// It ran on the connection that is gone.
			v = e.post.dropped()
			continue
		}
		s.route(e, v)
		if fail != nil && e.status == entryPending {
			reply := fail
			if e.lastErr != nil {
				reply = e.lastErr
			}
			s.answer(e, reply)
			e.post = e.pre // a command that did not run changed nothing
		}
		v = e.post
	}
	s.view = v
}

// setStatus moves e to status st, keeping the count of pending entries.
func (s *pinnedSession) setStatus(e *entry, st entryStatus) {
	if e.status == entryPending {
		s.npending--
	}
	if st == entryPending {
		s.npending++
	}
	e.status = st
}

// answer completes e with reply.
func (s *pinnedSession) answer(e *entry, reply []byte) {
	e.reply = reply
	s.setStatus(e, entryDone)
}
