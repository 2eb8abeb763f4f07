//! Forest plots drawn as `tau forest` draws them: the results pooled (and
//! split by `by`) in tau-core, then handed to tau-plot, which fits nothing.

use tau_core::data::dataset::Dataset;
use tau_core::subgroup::{SubgroupOptions, Tau2Mode, subgroup};
use tau_core::{FitOptions, pool};
use tau_plot::{Fitted, ForestOptions, ForestPlot, forest};

/// The forest plot of `data` with the models of `options`, split by `by`.
pub fn forest_of(
    data: &Dataset,
    fit: &FitOptions,
    options: &ForestOptions,
    by: Option<&str>,
) -> ForestPlot {
    let fits = options.fits(fit);
    let pooled: Vec<_> = fits.iter().map(|(_, f)| pool(data, f).unwrap()).collect();
    let split: Vec<_> = match by {
        None => Vec::new(),
        Some(by) => fits
            .iter()
            .map(|(_, f)| {
                let spec = SubgroupOptions {
                    fit: *f,
                    by: by.to_owned(),
                    tau2: Tau2Mode::Separate,
                    levels: None,
                };
                subgroup(data, &spec).unwrap()
            })
            .collect(),
    };
    let fitted: Vec<Fitted> = fits
        .iter()
        .enumerate()
        .map(|(m, (model, _))| Fitted {
            model: *model,
            pooled: &pooled[m],
            subgroups: split.get(m),
        })
        .collect();
    forest(data, &fitted, options).unwrap()
}
