"""PNG figures of a testbed run, drawn the way the reference draws them.

Each curve is the mean over runs per PU count; a thin error bar spans the absolute
minimum to maximum and a thick one the 10 % to 90 % quantiles (see :mod:`.table`).
PU counts double from one step to the next, so the x axis is logarithmic (base 2).
Figures use matplotlib's object API with the Agg canvas: no display, no global state.
"""

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import reference, table

GROUP_COLOURS = {"ue": "#c0392b", "mec": "#1e8449", "pmc": "#2e5fa8"}
GROUP_LABELS = {"ue": "UE PE", "mec": "MEC PEs", "pmc": "public-cloud PEs"}
LINESTYLES = ("-", "--", ":", "-.")


def _new(title, ylabel, width=7.0):
    figure = Figure(figsize=(width, 4.4), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    axes.set_title(title)
    axes.set_xlabel("pool users (PUs)")
    axes.set_ylabel(ylabel)
    axes.set_xscale("log", base=2)
    axes.grid(True, which="major", alpha=0.3)
    return figure, axes


def _pu_ticks(axes, counts):
    axes.set_xticks(counts)
    axes.set_xticklabels([str(count) for count in counts])
    axes.minorticks_off()


def draw_series(axes, summaries, label, colour, linestyle="-", shift=1.0, scale=1.0):
    """Mean line, min/max (thin) and q10/q90 (thick) error bars of ``{pus: Summary}``."""
    counts = sorted(summaries)
    if not counts:
        return
    xs = [count * shift for count in counts]
    mean = [summaries[count].mean / scale for count in counts]
    low = [summaries[count].min / scale for count in counts]
    high = [summaries[count].max / scale for count in counts]
    q10 = [summaries[count].q10 / scale for count in counts]
    q90 = [summaries[count].q90 / scale for count in counts]
    axes.vlines(xs, low, high, colors=colour, linewidth=0.9, alpha=0.8)
    axes.scatter(xs, low, marker="_", color=colour, s=40)
    axes.scatter(xs, high, marker="_", color=colour, s=40)
    axes.vlines(xs, q10, q90, colors=colour, linewidth=4.5, alpha=0.45)
    axes.plot(xs, mean, linestyle=linestyle, marker="o", markersize=4, color=colour, label=label)


def _save(figure, path, counts, legend_outside=False):
    axes = figure.axes[0]
    _pu_ticks(axes, counts)
    if axes.get_legend_handles_labels()[0]:
        if legend_outside:  # many series: keep the legend off the data
            axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
        else:
            axes.legend(fontsize=8, loc="best")
    axes.text(0.99, 0.01, "line: mean over runs; thick bar: 10-90 % quantiles; thin bar: min-max",
              transform=axes.transAxes, ha="right", va="bottom", fontsize=6.5, alpha=0.7)
    figure.tight_layout()
    figure.savefig(path, format="png")
    return Path(path)


def _shifts(n):
    """Small multiplicative x offsets so that several series' bars do not overlap."""
    if n <= 1:
        return [1.0]
    spread = 0.18
    return [2 ** (-spread / 2 + spread * index / (n - 1)) for index in range(n)]


def used_capacity_per_pe(pe_rows, pe_groups, path):
    per_pe = table.by_pe(pe_rows, "used_capacity")
    counts = sorted({int(row["pus"]) for row in pe_rows})
    figure, axes = _new("Used capacity per PE", "used capacity [1,000 calculations/s]", width=8.6)
    styles = {}
    for name, shift in zip(per_pe, _shifts(len(per_pe))):
        group = pe_groups[name]
        styles[group] = styles.get(group, -1) + 1
        draw_series(axes, per_pe[name], "{} ({})".format(name, group), GROUP_COLOURS[group],
                    LINESTYLES[styles[group] % len(LINESTYLES)], shift, scale=1000.0)
    axes.set_ylim(bottom=0)
    return _save(figure, path, counts, legend_outside=True)


def used_capacity_per_group(pe_rows, path):
    per_group = table.by_group(pe_rows, "used_capacity")
    counts = sorted({int(row["pus"]) for row in pe_rows})
    figure, axes = _new("Used capacity per PE group (sum of the group's PEs)",
                        "used capacity [1,000 calculations/s]")
    for (group, summaries), shift in zip(per_group.items(), _shifts(len(per_group))):
        draw_series(axes, summaries, GROUP_LABELS[group], GROUP_COLOURS[group], shift=shift, scale=1000.0)
    axes.set_ylim(bottom=0)
    return _save(figure, path, counts)


PU_FIGURES = (
    # file, metric, title, y label, scale
    ("queuing_time.png", "queuing_s", "Queuing time per job", "queuing time [s]", 1.0),
    ("startup_time.png", "startup_s", "Start-up time per job", "start-up time [s]", 1.0),
    ("processing_time.png", "processing_s", "Processing time per job", "processing time [s]", 1.0),
    ("handling_speed.png", "handling_speed", "Handling speed per PU", "handling speed [1,000 calculations/s]",
     1000.0),
)


def pu_metric(pu_rows, metric, title, ylabel, path, scale=1.0):
    summaries = table.by_pus(pu_rows, metric)
    counts = sorted({int(row["pus"]) for row in pu_rows})
    figure, axes = _new(title, ylabel)
    draw_series(axes, summaries, "measured", "#34495e", scale=scale)
    if metric == "handling_speed":
        axes.axhline(reference.UE_PE_CAPACITY / scale, color=GROUP_COLOURS["ue"], linestyle=":",
                     linewidth=1, label="UE PE capacity (200,000 calc/s)")
        axes.scatter([48], [reference.HANDLING_SPEED_48_PUS / scale], marker="^", color="#7f8c8d",
                     zorder=5, label="reference: well above 218,000 at 48 PUs")
        counts = sorted(set(counts) | {48})
    if metric == "processing_s":
        alone = reference.JOB_SIZE / reference.PE_GROUPS["mec"][1]
        axes.axhline(alone, color=GROUP_COLOURS["mec"], linestyle=":", linewidth=1,
                     label="mean job alone on a 1,000,000 calc/s PE ({:g} s)".format(alone))
    axes.set_ylim(bottom=0)
    return _save(figure, path, counts)


def table1_figure(pu_rows, path):
    """Total queuing time per PU over a run: measured next to the reference's Table 1."""
    measured = table.by_pus(pu_rows, "total_queuing_s")
    ref = {pus: table.Summary(0, 0, 0, *values) for pus, values in reference.TABLE1.items()}
    counts = sorted(set(measured) | set(ref))
    figure, axes = _new("Table 1: total queuing time per PU over a run", "total queuing time [s]")
    draw_series(axes, measured, "measured", "#34495e", shift=0.94)
    draw_series(axes, ref, "reference (paper)", "#b9770e", linestyle="--", shift=1.06)
    axes.set_yscale("symlog", linthresh=10.0)
    return _save(figure, path, counts)


def fault_timeline(run, fault, path):
    """Two panels over the run: each completed job's handling time, and each PE's
    cumulative completed jobs (where the work went); the fault's window shaded."""
    start = run.started.timestamp()
    figure = Figure(figsize=(7.0, 6.4), dpi=110)
    FigureCanvasAgg(figure)
    jobs_axes, pe_axes = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    jobs_axes.set_title("{}: handling time per job ({} PUs, run {})".format(fault.name, run.pus, run.run))
    jobs_axes.set_ylabel("handling time [s]")
    xs = [job.completed_at - start for pu_run in run.pu_runs for job in pu_run.jobs]
    ys = [job.handling_s for pu_run in run.pu_runs for job in pu_run.jobs]
    jobs_axes.scatter(xs, ys, s=9, color="#34495e", label="completed job")
    pe_axes.set_ylabel("jobs completed by PE")
    pe_axes.set_xlabel("time [s after the run's start]")
    styles = {}
    for pe_run in run.pes:
        if not pe_run.completions:
            continue
        group = pe_run.spec.group
        styles[group] = styles.get(group, -1) + 1
        times = [0.0] + [item.timestamp - start for item in pe_run.completions]
        pe_axes.step(times, range(len(times)), where="post", color=GROUP_COLOURS[group],
                     linestyle=LINESTYLES[styles[group] % len(LINESTYLES)], label=pe_run.spec.name)
        xs.extend(times)
    for axes in (jobs_axes, pe_axes):
        if fault.at_s is not None:
            end = fault.at_s + (fault.duration_s or 0.0)
            if end > fault.at_s:
                axes.axvspan(fault.at_s, end, color="#c0392b", alpha=0.18,
                             label="fault window" if axes is jobs_axes else None)
            axes.axvline(fault.at_s, color="#c0392b", linewidth=1.2,
                         label="{}{}".format(fault.name, " of " + fault.target if fault.target else "")
                         if axes is jobs_axes else None)
        axes.set_ylim(bottom=0)
        axes.grid(True, alpha=0.3)
        if axes.get_legend_handles_labels()[0]:
            axes.legend(fontsize=7, loc="best")
    jobs_axes.set_xlim(left=0, right=max([run.runtime_s] + xs) * 1.02)
    figure.tight_layout()
    figure.savefig(path, format="png")
    return Path(path)


def write_figures(pu_rows, pe_rows, pe_groups, out_dir):
    """All vs-PU figures into ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [used_capacity_per_pe(pe_rows, pe_groups, out_dir / "used_capacity.png"),
             used_capacity_per_group(pe_rows, out_dir / "used_capacity_groups.png")]
    for name, metric, title, ylabel, scale in PU_FIGURES:
        paths.append(pu_metric(pu_rows, metric, title, ylabel, out_dir / name, scale))
    paths.append(table1_figure(pu_rows, out_dir / "table1_queuing.png"))
    return paths
