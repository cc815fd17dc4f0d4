use gavel_records::bundle::Bundle;
use gavel_records::chain::Entry;

/// Recomputes every hash of `bundle`'s chain after an edit, as a forger
/// with the whole file would: what is left for `verify` to catch is what
/// the edit says, not a broken link.
pub fn rehash(bundle: &mut Bundle) {
    let meeting = bundle.meeting.clone();
    let mut prev = None;
    for e in &mut bundle.chain {
        let next = Entry::next(&meeting, prev, e.at, e.event.clone());
        *e = next;
        prev = Some((e.seq, e.hash));
    }
}
