//! The revoked serials of one CRL, as a compact index: every serial packed into one arena, and
//! 16-byte entries found through an open-addressing hash table, so a lookup is a hash and a
//! compare, and a 100,000-entry CRL costs a few MB.

use super::*;

pub(super) const NO_REASON: u8 = 0xff;
pub(super) const FLAG_UNKNOWN_CRITICAL: u8 = 1;
pub(super) const FLAG_REMOVE: u8 = 2;

/// One revoked entry, 16 bytes: where its serial lies in the arena, its reason and its date.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    offset: u32,
    len: u8,
    pub(super) reason: u8,
    pub(super) flags: u8,
    pub(super) date: i64,
}

/// The revoked serials: their encodings packed into one arena, and an open-addressing hash table
/// of entry numbers. About 37 bytes per entry for 16-byte serials, against some 100 for a
/// `HashMap<Vec<u8>, _>`.
#[derive(Debug, Clone, Default)]
pub(super) struct Index {
    arena: Vec<u8>,
    entries: Vec<Entry>,
    /// Entry number + 1; 0 is an empty slot. Its length is a power of two at least twice the entries.
    table: Vec<u32>,
    seed: u64,
    /// Entries overridden by a later one for the same serial.
    duplicates: usize,
}

pub(super) const MIX: u64 = 0x9e37_79b9_7f4a_7c15;

pub(super) fn hash_serial(seed: u64, serial: &[u8]) -> u64 {
    let mut h = seed ^ (serial.len() as u64).wrapping_mul(MIX);
    for chunk in serial.chunks(8) {
        let mut w = [0u8; 8];
        w[..chunk.len()].copy_from_slice(chunk);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(MIX);
        h ^= h >> 29;
    }
    h.wrapping_mul(MIX) ^ (h >> 32)
}

impl Index {
    pub(super) fn with_capacity(entries: usize, arena: usize) -> Self {
        use std::hash::BuildHasher;
        Index {
            arena: Vec::with_capacity(arena),
            entries: Vec::with_capacity(entries),
            table: Vec::new(),
            duplicates: 0,
            seed: std::collections::hash_map::RandomState::new().hash_one(0x6563_7061u64),
        }
    }

    pub(super) fn serial(&self, e: &Entry) -> &[u8] {
        let start = e.offset as usize;
        &self.arena[start..start + usize::from(e.len)]
    }

    pub(super) fn push(&mut self, serial: &[u8], reason: u8, flags: u8, date: i64) -> Result<()> {
        let offset = u32::try_from(self.arena.len()).map_err(|_| crl_malformed("CRL too large"))?;
        let len = u8::try_from(serial.len()).map_err(|_| crl_malformed("serial number too long"))?;
        if self.entries.len() >= u32::MAX as usize / 4 {
            return Err(crl_malformed("CRL too large"));
        }
        self.arena.extend_from_slice(serial);
        self.entries.push(Entry {
            offset,
            len,
            reason,
            flags,
            date,
        });
        Ok(())
    }

    /// Builds the table; of two entries for one serial the later one stands, as a map insert would.
    pub(super) fn build(&mut self) {
        self.arena.shrink_to_fit();
        self.entries.shrink_to_fit();
        let size = (self.entries.len() * 2).next_power_of_two().max(2);
        let mask = size - 1;
        let mut table = vec![0u32; size];
        let mut duplicates = 0;
        for i in 0..self.entries.len() {
            let key = self.serial(&self.entries[i]);
            let mut slot = hash_serial(self.seed, key) as usize & mask;
            loop {
                match table[slot] {
                    0 => {
                        table[slot] = i as u32 + 1;
                        break;
                    }
                    n if self.serial(&self.entries[n as usize - 1]) == key => {
                        duplicates += 1;
                        table[slot] = i as u32 + 1;
                        break;
                    }
                    _ => slot = (slot + 1) & mask,
                }
            }
        }
        self.table = table;
        // A serial listed twice counts once.
        self.duplicates = duplicates;
    }

    pub(super) fn get(&self, serial: &[u8]) -> Option<&Entry> {
        let mask = self.table.len().checked_sub(1)?;
        let mut slot = hash_serial(self.seed, serial) as usize & mask;
        loop {
            match self.table[slot] {
                0 => return None,
                n => {
                    let e = &self.entries[n as usize - 1];
                    if self.serial(e) == serial {
                        return Some(e);
                    }
                }
            }
            slot = (slot + 1) & mask;
        }
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len() - self.duplicates
    }

    pub(super) fn heap_bytes(&self) -> usize {
        self.arena.capacity() + self.entries.capacity() * std::mem::size_of::<Entry>() + self.table.capacity() * 4
    }
}
