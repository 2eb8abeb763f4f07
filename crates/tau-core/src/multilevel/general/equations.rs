//! The mixed-model matrix C of [`super::henderson`], factorised by first
//! eliminating the random effects of one independent term.
//!
//! Order the random effects as (1) the levels of the largest term with
//! G = σ² I and (2) the others. Each effect size has one level of term (1),
//! so C₁₁ = Z₁ᵀW⁻¹Z₁ + I/σ² is diagonal and C₁₂ has at most one non-zero per
//! effect size in each of its rows' terms. Eliminating block (1) leaves the
//! Schur complement S = C₂₂ − C₂₁ C₁₁⁻¹ C₁₂, factorised densely
//! (Golub & Van Loan 2013, §4.2; the first step of a sparse Cholesky
//! factorisation with block (1) ordered first):
//!
//! * log|C| = Σ log (C₁₁)ⱼⱼ + log|S|;
//! * C x = b: S x₂ = b₂ − C₂₁ C₁₁⁻¹ b₁, x₁ = C₁₁⁻¹ (b₁ − C₁₂ x₂);
//! * C⁻¹: (C⁻¹)₂₂ = S⁻¹, (C⁻¹)₁₂ = −C₁₁⁻¹ C₁₂ S⁻¹,
//!   (C⁻¹)₁₁ = C₁₁⁻¹ + C₁₁⁻¹ C₁₂ S⁻¹ C₂₁ C₁₁⁻¹, of which only single entries
//!   are read.
//!
//! In a model of studies crossed with labs S is over the labs; in a
//! phylogenetic model (species and their phylogeny) over the species; the
//! cost is that of S, not of the q × q matrix C.
//!
//! Where the gradient reads only diagonal entries of S⁻¹ (a phylogeny whose
//! species are the levels of one independent term), they are the squared
//! column norms of L⁻¹ for S = L Lᵀ: (S⁻¹)ₗₗ = Σⱼ (L⁻¹)ⱼₗ², one triangular
//! inversion (n³/3 flops) in place of the whole inverse (n³).

use nalgebra::DMatrix;

use super::spd::Factor;

/// Which columns of C form block (1): `offset..offset + size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Split {
    pub offset: usize,
    pub size: usize,
}

/// Where a column of C is: in block (1) or (2), and its index there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    First(usize),
    Second(usize),
}

impl Split {
    /// No block (1): C is factorised densely.
    pub fn none() -> Split {
        Split { offset: 0, size: 0 }
    }

    /// The place of column `a`.
    pub fn place(&self, a: usize) -> Place {
        if a < self.offset {
            Place::Second(a)
        } else if a < self.offset + self.size {
            Place::First(a - self.offset)
        } else {
            Place::Second(a - self.size)
        }
    }
}

/// C as it is assembled.
pub(crate) struct Assembly {
    split: Split,
    c11: Vec<f64>,
    /// (row in block 1, column in block 2, value), duplicates summed later.
    c12: Vec<(usize, usize, f64)>,
    c22: DMatrix<f64>,
}

impl Assembly {
    /// A zero C of order `q`.
    pub fn new(split: Split, q: usize) -> Assembly {
        let q2 = q - split.size;
        Assembly {
            split,
            c11: vec![0.0; split.size],
            c12: Vec::new(),
            c22: DMatrix::zeros(q2, q2),
        }
    }

    /// Adds `scale · m` to the square block of C starting at row and
    /// column `offset` (a known correlation's inverse).
    pub fn add_block(&mut self, offset: usize, m: &DMatrix<f64>, scale: f64) {
        let n = m.nrows();
        let Split {
            offset: first,
            size,
        } = self.split;
        let in_second = offset + n <= first || offset >= first + size;
        if let (true, Place::Second(l)) = (in_second, self.split.place(offset)) {
            // The whole block lies in C₂₂, contiguously: column by column.
            let mut target = self.c22.view_mut((l, l), (n, n));
            target.zip_apply(m, |t, v| *t += scale * v);
            return;
        }
        for b in 0..n {
            for a in 0..n {
                self.add(offset + a, offset + b, scale * m[(a, b)]);
            }
        }
    }

    /// Adds `v` to C[a, b]. Callers add both orientations of an
    /// off-diagonal entry; an entry across the blocks is kept once.
    pub fn add(&mut self, a: usize, b: usize, v: f64) {
        match (self.split.place(a), self.split.place(b)) {
            (Place::First(j), Place::First(_)) => self.c11[j] += v,
            (Place::First(j), Place::Second(l)) => self.c12.push((j, l, v)),
            (Place::Second(_), Place::First(_)) => {}
            (Place::Second(l), Place::Second(m)) => self.c22[(l, m)] += v,
        }
    }

    /// Eliminates block (1) and factorises S, or `None` when C is not
    /// positive definite.
    pub fn factorise(mut self) -> Option<Equations> {
        if self.c11.iter().any(|c| c.is_nan() || *c <= 0.0) {
            return None;
        }
        self.c12.sort_unstable_by_key(|&(j, l, _)| (j, l));
        let mut rows: Vec<Vec<(usize, f64)>> = vec![Vec::new(); self.split.size];
        for (j, l, v) in self.c12 {
            let row = &mut rows[j];
            match row.last_mut() {
                Some(last) if last.0 == l => last.1 += v,
                _ => row.push((l, v)),
            }
        }
        let mut s = self.c22;
        for (row, c) in rows.iter().zip(&self.c11) {
            for &(l, a) in row {
                for &(m, b) in row {
                    s[(l, m)] -= a * b / c;
                }
            }
        }
        let factor = Factor::new(&s)?;
        Some(Equations {
            split: self.split,
            c11: self.c11,
            c12: rows,
            s_diagonal: s.diagonal().iter().copied().collect(),
            factor,
            s_inv: Inverse::None,
        })
    }
}

/// C factorised.
pub(crate) struct Equations {
    split: Split,
    c11: Vec<f64>,
    c12: Vec<Vec<(usize, f64)>>,
    /// The diagonal of S (before it was factorised).
    s_diagonal: Vec<f64>,
    factor: Factor,
    s_inv: Inverse,
}

/// What is known of S⁻¹.
enum Inverse {
    None,
    Diagonal(Vec<f64>),
    Full(DMatrix<f64>),
}

impl Equations {
    /// log|C|.
    pub fn log_det(&self) -> f64 {
        self.c11.iter().map(|c| c.ln()).sum::<f64>() + self.factor.log_det()
    }

    /// C⁻¹ b, for b with C's order of rows.
    pub fn solve(&self, b: &DMatrix<f64>) -> DMatrix<f64> {
        let (q, m) = b.shape();
        let q2 = q - self.split.size;
        let mut b1 = DMatrix::zeros(self.split.size, m);
        let mut b2 = DMatrix::zeros(q2, m);
        for a in 0..q {
            match self.split.place(a) {
                Place::First(j) => b1.row_mut(j).copy_from(&b.row(a)),
                Place::Second(l) => b2.row_mut(l).copy_from(&b.row(a)),
            }
        }
        for (j, row) in self.c12.iter().enumerate() {
            for &(l, v) in row {
                for col in 0..m {
                    b2[(l, col)] -= v * b1[(j, col)] / self.c11[j];
                }
            }
        }
        let x2 = self.factor.solve(&b2);
        for (j, row) in self.c12.iter().enumerate() {
            for &(l, v) in row {
                for col in 0..m {
                    b1[(j, col)] -= v * x2[(l, col)];
                }
            }
            for col in 0..m {
                b1[(j, col)] /= self.c11[j];
            }
        }
        let mut x = DMatrix::zeros(q, m);
        for a in 0..q {
            match self.split.place(a) {
                Place::First(j) => x.row_mut(a).copy_from(&b1.row(j)),
                Place::Second(l) => x.row_mut(a).copy_from(&x2.row(l)),
            }
        }
        x
    }

    /// The diagonal of S, in the order of block (2).
    pub fn schur_diagonal(&self) -> &[f64] {
        &self.s_diagonal
    }

    /// Computes S⁻¹, which [`Equations::inverse_entry`] reads.
    pub fn invert(&mut self) {
        if !matches!(self.s_inv, Inverse::Full(_)) {
            self.s_inv = Inverse::Full(self.factor.inverse());
        }
    }

    /// Computes the diagonal of S⁻¹ only: [`Equations::inverse_entry`]
    /// then reads the entries of C⁻¹ that need no other entry of S⁻¹.
    pub fn invert_diagonal(&mut self) {
        if matches!(self.s_inv, Inverse::None) {
            self.s_inv = Inverse::Diagonal(self.factor.inverse_diagonal());
        }
    }

    /// (S⁻¹)[l, l], once [`Equations::invert`] or
    /// [`Equations::invert_diagonal`] has run.
    pub fn schur_inverse_diagonal(&self, l: usize) -> f64 {
        self.schur_inverse(l, l)
    }

    /// (S⁻¹)[l, m]; NaN for an entry not computed.
    fn schur_inverse(&self, l: usize, m: usize) -> f64 {
        match &self.s_inv {
            Inverse::Full(s_inv) => s_inv[(l, m)],
            Inverse::Diagonal(d) if l == m => d[l],
            _ => f64::NAN,
        }
    }

    /// (C⁻¹)[a, b]; [`Equations::invert`] (or, for the entries it
    /// serves, [`Equations::invert_diagonal`]) must have run.
    pub fn inverse_entry(&self, a: usize, b: usize) -> f64 {
        let s_inv = |l: usize, m: usize| self.schur_inverse(l, m);
        // (C₁₂ S⁻¹)[j, m].
        let row_times =
            |j: usize, m: usize| -> f64 { self.c12[j].iter().map(|&(l, v)| v * s_inv(l, m)).sum() };
        match (self.split.place(a), self.split.place(b)) {
            (Place::Second(l), Place::Second(m)) => s_inv(l, m),
            (Place::First(j), Place::Second(m)) | (Place::Second(m), Place::First(j)) => {
                -row_times(j, m) / self.c11[j]
            }
            (Place::First(j), Place::First(i)) => {
                let quadratic: f64 = self.c12[i].iter().map(|&(m, v)| v * row_times(j, m)).sum();
                let diagonal = if i == j { 1.0 / self.c11[j] } else { 0.0 };
                diagonal + quadratic / (self.c11[j] * self.c11[i])
            }
        }
    }
}
