//! A generated meeting with a key for every seat, for tests and the
//! benchmark swarm that need many tablets rather than the example meeting.

use ed25519_dalek::SigningKey;
use gavel_protocol::{MeetingId, Principal, PublicKey};
use gavel_server::store::{Store, StoreError};

/// A generated meeting with a key for every seat and for the chair.
pub struct Roster {
    pub meeting: MeetingId,
    pub seats: Vec<SigningKey>,
    pub chair: SigningKey,
}

impl Roster {
    pub fn generate(seats: u32) -> Roster {
        let mut rng = rand::rngs::OsRng;
        let meeting = MeetingId::parse(&format!("swarm-{:016x}", rand::random::<u64>()))
            .expect("a valid meeting id");
        Roster {
            meeting,
            seats: (0..seats).map(|_| SigningKey::generate(&mut rng)).collect(),
            chair: SigningKey::generate(&mut rng),
        }
    }

    /// Imports the meeting with the keys of every seat and of the chair.
    pub async fn import(&self, store: &Store) -> Result<(), StoreError> {
        let keys = public_keys(&self.seats, &self.chair);
        store
            .import_meeting(&self.meeting, &self.definition(), &keys, &[])
            .await
    }

    /// The meeting definition file: one named vote with interim totals that
    /// allows changing a vote (a sustained load re-votes) and needs no check-in.
    pub fn definition(&self) -> String {
        let mut toml = format!(
            "id = \"{}\"\ntitle = \"Swarm of {n} tablets\"\nbody = \"Gavel benchmark\"\n\
             total_seats = {n}\n\n[vote_defaults]\n\
             rule = {{ base = \"all_seats\", threshold = \"more_than_half\" }}\n\
             secrecy = \"named\"\ninterim = \"totals\"\nallow_change = true\n\
             require_check_in = false\nwindow_seconds = 3600\n",
            self.meeting,
            n = self.seats.len()
        );
        for (i, key) in self.seats.iter().enumerate() {
            toml.push_str(&format!(
                "\n[[seats]]\nnumber = {}\nname = \"Tablet {}\"\npublic_key = \"{}\"\n",
                i + 1,
                i + 1,
                PublicKey::of(key).to_hex()
            ));
        }
        toml.push_str(
            "\n[[topics]]\ntitle = \"Benchmark\"\n\n[[topics.items]]\n\
             kind = \"proposal\"\ntitle = \"Swarm vote\"\n",
        );
        toml
    }
}

/// What a meeting's import binds: the public key of seat `n` (at index
/// `n - 1` of `seats`) and of the chair.
pub fn public_keys(seats: &[SigningKey], chair: &SigningKey) -> Vec<(Principal, PublicKey)> {
    let mut keys: Vec<(Principal, PublicKey)> = (1..)
        .zip(seats)
        .map(|(seat, key)| (Principal::Seat(seat), PublicKey::of(key)))
        .collect();
    keys.push((Principal::Chair, PublicKey::of(chair)));
    keys
}
