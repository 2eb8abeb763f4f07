//! The nested grouping of `--random A/B/C`: which unit of each level every
//! effect size belongs to, and the outermost clusters as contiguous blocks.
//!
//! As in metafor's `random = ~ 1 | A/B/C`, B is nested in A: a unit of level B
//! is a pair (A label, B label), so the same B label under two A's names two
//! units; a unit of C is a triple. The marginal covariance of the effect
//! sizes is block-diagonal by the outermost level, so everything is computed
//! cluster by cluster over [`Block`]s.

use crate::input::moderators::FnvMap;

/// Effect sizes grouped by the levels of a nested random-effects structure.
#[derive(Debug, Clone, PartialEq)]
pub struct Structure {
    /// The level names, outermost first ("study", "study/es_id", ...; metafor's `s.names`).
    pub names: Vec<String>,
    /// Number of units at each level (metafor's `s.nlevels`).
    pub units: Vec<usize>,
    /// Row `r` of the blocked order is effect size `order[r]` of the input.
    pub order: Vec<usize>,
    /// The outermost clusters, in order of first appearance.
    pub blocks: Vec<Block>,
    /// `local[l][r]`: the unit of level `l` of blocked row `r`, numbered from 0
    /// within its block in order of appearance (always 0 at level 0).
    pub local: Vec<Vec<u32>>,
    /// Each block's outermost label, for messages.
    pub labels: Vec<String>,
}

/// One outermost cluster: rows `start..start + len` of the blocked order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// First row.
    pub start: usize,
    /// Number of rows.
    pub len: usize,
    /// Number of units of each level in the block, up to [`MAX_LEVELS`].
    pub units: [u32; MAX_LEVELS],
}

/// The most nested levels a structure may have.
pub const MAX_LEVELS: usize = 8;

/// A level whose σ² is not identifiable: every unit of the level above holds
/// exactly one unit of it (it does not vary within them), so its variance
/// cannot be told apart from the variance above. Either the nesting is
/// written the wrong way round or the level is superfluous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelIssue {
    /// The level (index, outermost = 0).
    pub level: usize,
}

impl Structure {
    /// Groups `k` effect sizes by `labels[l][i]`, the label of effect size `i`
    /// at level `l` (outermost first; any key that tells labels apart, such
    /// as the label itself or its number in a table of labels); `outer`
    /// writes an outermost label for messages. `names` are the grouping
    /// variables.
    pub fn new<K: Copy + Eq + std::hash::Hash>(
        names: &[String],
        labels: &[Vec<K>],
        outer: impl Fn(K) -> String,
    ) -> Structure {
        let levels = labels.len();
        let k = labels.first().map_or(0, Vec::len);
        // Global unit ids, level by level: a unit is (unit above, label).
        // (u32: fewer units than the 2³² records a level can hold.)
        let mut ids: Vec<Vec<u32>> = Vec::with_capacity(levels);
        let mut units = Vec::with_capacity(levels);
        for (l, level) in labels.iter().enumerate() {
            let mut map: FnvMap<(u32, K), u32> = FnvMap::default();
            let column: Vec<u32> = (0..k)
                .map(|i| {
                    let parent = if l == 0 { 0 } else { ids[l - 1][i] };
                    let next = map.len() as u32;
                    *map.entry((parent, level[i])).or_insert(next)
                })
                .collect();
            units.push(map.len());
            ids.push(column);
        }
        // Blocks by outermost unit, in order of first appearance, rows in input order.
        let clusters = units.first().copied().unwrap_or(0);
        let mut counts = vec![0usize; clusters];
        for &c in ids.first().map_or(&[][..], |v| v.as_slice()) {
            counts[c as usize] += 1;
        }
        let mut starts = vec![0usize; clusters];
        let mut acc = 0;
        for (s, n) in starts.iter_mut().zip(&counts) {
            *s = acc;
            acc += n;
        }
        let mut fill = starts.clone();
        let mut order = vec![0usize; k];
        for (i, &c) in ids
            .first()
            .map_or(&[][..], |v| v.as_slice())
            .iter()
            .enumerate()
        {
            order[fill[c as usize]] = i;
            fill[c as usize] += 1;
        }
        let mut local = vec![vec![0u32; k]; levels];
        let mut blocks = Vec::with_capacity(clusters);
        let mut block_labels = Vec::with_capacity(clusters);
        let mut seen: Vec<FnvMap<u32, u32>> = vec![FnvMap::default(); levels];
        for (c, (&start, &len)) in starts.iter().zip(&counts).enumerate() {
            let mut block_units = [0u32; MAX_LEVELS];
            for (l, map) in seen.iter_mut().enumerate() {
                map.clear();
                for r in start..start + len {
                    let next = map.len() as u32;
                    local[l][r] = *map.entry(ids[l][order[r]]).or_insert(next);
                }
                block_units[l] = map.len() as u32;
            }
            blocks.push(Block {
                start,
                len,
                units: block_units,
            });
            block_labels.push(outer(labels[0][order[start]]));
            debug_assert_eq!(ids[0][order[start]] as usize, c);
        }
        let names = (0..levels).map(|l| names[..=l].join("/")).collect();
        Structure {
            names,
            units,
            order,
            blocks,
            local,
            labels: block_labels,
        }
    }

    /// Number of levels.
    pub fn levels(&self) -> usize {
        self.units.len()
    }

    /// Levels whose σ² is not identifiable (see [`LevelIssue`]).
    pub fn issues(&self) -> Vec<LevelIssue> {
        (1..self.levels())
            .filter(|&l| self.units[l] == self.units[l - 1])
            .map(|level| LevelIssue { level })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_labels_make_distinct_units() {
        // Study A has outcomes 1, 2; study B reuses label 1: three outcome units.
        let names = ["study".to_owned(), "outcome".to_owned()];
        let labels = vec![vec!["A", "B", "A", "A"], vec!["1", "1", "2", "1"]];
        let s = Structure::new(&names, &labels, str::to_owned);
        assert_eq!(s.names, ["study", "study/outcome"]);
        assert_eq!(s.units, [2, 3]);
        assert_eq!(s.order, [0, 2, 3, 1]);
        assert_eq!(s.blocks.len(), 2);
        assert_eq!((s.blocks[0].start, s.blocks[0].len), (0, 3));
        assert_eq!(s.blocks[0].units[..2], [1, 2]);
        assert_eq!(s.local[1], [0, 1, 0, 0]);
        assert_eq!(s.labels, ["A", "B"]);
        assert!(s.issues().is_empty());
    }

    #[test]
    fn a_level_without_variation_within_the_level_above_is_found() {
        let names = ["a".to_owned(), "b".to_owned()];
        let plain = vec![vec!["1", "2", "3"], vec!["x", "y", "z"]];
        let s = Structure::new(&names, &plain, str::to_owned);
        assert_eq!(s.issues(), [LevelIssue { level: 1 }]);
        // es_id/study written for study/es_id: study does not vary within an es_id.
        let reversed = vec![vec!["1", "2", "3"], vec!["S", "S", "T"]];
        assert_eq!(
            Structure::new(&names, &reversed, str::to_owned).issues(),
            [LevelIssue { level: 1 }]
        );
    }
}
