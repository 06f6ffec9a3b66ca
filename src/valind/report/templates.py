"""The report's HTML template and stylesheet (inline; no scripts, no network references).

Rendered by Jinja2 with autoescaping on: every value put into the page,
model text above all, is HTML-escaped, in element bodies and attributes alike.
Only the stylesheet below is inserted raw.
"""

CSS = """
:root { --ink:#1b1f24; --muted:#5b6470; --line:#e3e6ea; --bg:#ffffff; --soft:#f6f7f9; --accent:#1f3b73;
        --agree:#1d7a3a; --disagree:#b3261e; --ns:#7a7f87; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif;
       color:var(--ink); background:var(--bg); }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 80px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 42px 0 10px; padding-top: 8px; border-top: 2px solid var(--line); }
h3 { font-size: 16px; margin: 24px 0 8px; }
p.lead { color: var(--muted); margin: 0 0 16px; }
.manipulation { border:1px solid #c9d3e0; border-radius:6px; padding:4px 16px; margin:14px 0; background:#f7f9fc; }
.manipulation li.induced b:first-child { color:#1a6b2f; } .manipulation li.not-induced b:first-child { color:#8a2a1a; }
.banner { background:#fff4e5; border:1px solid #f0b45a; color:#7a4b00; padding:10px 14px; border-radius:6px;
          margin: 12px 0; font-weight:600; }
.cards { display:grid; grid-template-columns: repeat(auto-fit, minmax(118px, 1fr)); gap:10px; margin:16px 0; }
.card { background:var(--soft); border:1px solid var(--line); border-radius:8px; padding:10px 12px; }
.card b { display:block; font-size:22px; }
.card span { color:var(--muted); font-size:12.5px; }
nav.toc { background:var(--soft); border:1px solid var(--line); border-radius:8px; padding:10px 16px; margin: 18px 0; }
nav.toc a { color: var(--accent); text-decoration:none; margin-right: 10px; white-space: nowrap; display: inline-block; }
.note { color: var(--muted); font-size: 13.5px; }
.rule { background:var(--soft); border-left:4px solid var(--accent); padding:8px 14px; margin: 10px 0; font-size:14px; }
figure { margin: 14px 0 22px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
figcaption a { color: var(--accent); }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 8px 0 16px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.sig td { background: #f2f6ff; }
tr.sig td.eff { font-weight: 700; }
.badge { display:inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: white; }
.badge.agrees { background: var(--agree); }
.badge.disagrees { background: var(--disagree); }
.badge.not-significant { background: var(--ns); }
.badge.too-few-items { background: #b58a3c; }
.badge.not-measured { background: #ffffff; color: #777; border: 1px dashed #999; }
.badge.survives { background: #2b5fa8; }
.badge.none { background: #c8c8c8; }
details { margin: 6px 0 12px; }
table.matrix td.c, table.matrix th.c { text-align: center; white-space: nowrap; }
table.matrix .badge { min-width: 2.6em; text-align: center; }
summary { cursor: pointer; font-weight: 600; color: var(--accent); }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px;
      overflow-x: auto; font-size: 12.5px; line-height: 1.4; }
.pair { display:grid; grid-template-columns: 1fr 1fr; gap: 10px; margin: 6px 0 18px; }
.gen { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px;
       white-space: pre-wrap; word-break: break-word; font-size: 13px; }
.gen h4 { margin: 0 0 4px; font-size: 12.5px; color: var(--muted); }
.prompt { white-space: pre-wrap; word-break: break-word; font-size: 13.5px; }
.sample { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; margin: 10px 0; }
.sample .meta { color: var(--muted); font-size: 12.5px; }
.skipped { color: var(--muted); font-style: italic; }
@media print { nav.toc { display:none; } }
"""

TEMPLATE = r"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>valind report: {{ study_name }}</title>
<style>{{ css }}</style>
</head>
<body>
<main>
<h1>valind report: {{ study_name }}</h1>
<p class="lead">Run directory <code>{{ run_dir }}</code> &middot; generated {{ generated_at }} &middot; valind {{ version }}</p>
{% if synthetic %}<div class="banner">Synthetic demo data: every number in this report is simulated
(valind.report.demo). It shows what the report looks like, not what value induction does.</div>{% endif %}
{% for w in warnings %}<div class="banner">{{ w }}</div>{% endfor %}
<section id="manipulation" class="manipulation">
<h2>Was each value induced? (the manipulation check)</h2>
{% if manipulation %}<ul>{% for m in manipulation %}<li class="{{ 'induced' if m.induced.startswith('yes') else 'not-induced' }}"><b>{{ m.value }}</b>{% if m.multi %} ({{ m.model }}){% endif %}: induced <b>{{ m.induced }}</b>; expressed more than the control: <b>{{ m.expressed }}</b>. {{ m.detail }}</li>{% endfor %}</ul>
{% else %}<p>No manipulation check: the run has no per-pair implicit-reward check (DPO with held-out pairs and
training.reward_check_pairs &gt; 0) and no own-value expression against a control.</p>{% endif %}
<p class="rule">Confirmatory family, declared before the run (<code>analysis.manipulation_check</code>): per induced
value, {{ manipulation_family.outcomes }}; one-sided exact tests, corrected together by {{ manipulation_family.correction }}
(alpha {{ manipulation_family.alpha }}) and with nothing else. "Induced" = held-out implicit-reward accuracy above
chance and above the control adapter on the same pairs; everything below this line is exploratory and corrected
in its own families. Table: <code>report/manipulation_check.csv</code>.</p>
</section>
<div class="cards">
{% for label, value in cards %}<div class="card"><b>{{ value }}</b><span>{{ label }}</span></div>{% endfor %}
</div>
<nav class="toc">{% for id, title in toc %}
<a href="#{{ id }}">{{ title }}</a>{% endfor %}
</nav>

<section id="reading">
<h2>How to read this report</h2>
<div class="rule">{% if has_control %}Every effect is reported twice, on the <b>same items</b>: <b>against the control
adapter</b> (DPO on a random draw from the same pool of preference pairs, chosen without regard to any value, from
the same sources in the same proportions, with the same number of pairs, steps and seeds: what the <i>value</i>
itself does) and <b>against the base model</b> (the study's comparison, which also contains whatever DPO on any
slice of this data does; the control's own row shows that part). The report leads with the control.
Of the primary effects significant against the base model, <b>{{ survival.survive_control }} of
{{ survival.significant_vs_base }}</b> stay significant (same direction) against the control.
{% elif control_off %}The control arm is off for this run (curation.control: false): every effect is against the base
model only, so it mixes what the value does with what DPO on any slice of the data does.
{% else %}Every effect is the induced model minus the base model on the <b>same items</b>.{% endif %}
Effects are in percentage points (scores on a 0-1 scale are shown x100).
{% if max_seeds > 1 %}With several seeds per adapter, seeds are replications: each seed's difference from the reference
is taken on the same items, and the {{ level_pct }}% interval and the p-value come from a test whose unit includes
the seed (items and seeds as crossed random factors: unbiased variance components, Cochran-Cox critical value), so
seed-to-seed variation is in both. With 2 seeds no test can be both safe and powerful: this one has about two
thirds of the item-level test's power and up to about 0.12 false positives when seeds differ a lot (3 or more
seeds: near 0.05; bench/RESULTS.md). Where items and seeds show no variance at all, each seed's own interval is
used and the widest shown. Cells with one seed fall back to the single-adapter statistics below.
{% else %}<b>One seed per adapter: every result holds for this adapter (one training run) only.</b> Seed-to-seed
variation is in neither the interval nor the p-value; train several seeds (training.seeds) to generalise over runs.
{% endif %}
With one seed: for 0/1 outcomes Newcombe's {{ level_pct }}% interval for paired proportions and McNemar's test
(exact binomial below 25 discordant pairs); for other scores a paired sign-flip permutation test with Student's t
interval below 30 items and a percentile bootstrap over items from 30 ({{ options.n_boot }} resamples, seed
{{ options.seed }}). No interval is zero-width from zero observed variance: scores on a 0-1 scale that show no
spread get Hoeffding's interval, others none (the column <code>interval</code> of effects.csv names the method). p-values are corrected with Benjamini-Hochberg (q) within each contrast, across its
{{ n_effects }} primary effects (value expression, refusal, over-refusal, anthropomorphic behaviours, sycophancy,
QA accuracy){% if n_secondary %}; the {{ n_secondary }} secondary measures per contrast (value scores,
full/partial refusal, refusal by type, rates, judge failures, answers abandoned among initially correct items) form
their own family{% endif %}.
<b>Significant</b> means q &lt; {{ options.alpha }} and the interval excludes 0. In figures, grey hatched cells and
hollow grey points are not significant.</div>
</section>

<section id="findings">
<h2>Published findings beside this run</h2>
<p class="note">The study (arXiv 2605.07925) reported raw co-occurrences without intervals; here each claim is checked
against the effects below, against the base model as the study compared. <i>agrees</i>: significant in the published
direction; <i>disagrees</i>: significant the other way; <i>not significant</i>: the data cannot tell; <i>too few
items</i> (to tell): the interval is missing, has zero width (no item changed, so no spread to estimate from) or is
wider than the whole scale, and for QA wider than the margin band; <i>not measured</i>: a benchmark the claim names
that this run did not evaluate. Related values =
same Values-in-the-Wild category and same kind of valence (a proxy; the study's examples lie outside its 15 values).
QA agrees when the whole interval lies within &plusmn;{{ qa_margin }}.{% if has_control %} <b>Survives the control</b>:
the same measure also agrees against the control adapter, so it is the value and not DPO on this data that does it
(in the matrix, &#10003; = survives, &#10007; = agrees against the base model only).{% endif %}</p>
{% if claims_tally %}
<p class="note"><span class="badge agrees">agrees</span> <span class="badge disagrees">disagrees</span>
<span class="badge not-significant">not significant</span> <span class="badge too-few-items">too few items</span>
<span class="badge not-measured">not measured</span> &middot; a number alone is our effect in percentage points;
where a claim covers several measures (related values, QA benchmarks) the badges count them.</p>
<table class="matrix">
<tr><th>published finding</th>{% for v in claims_matrix.columns %}<th class="c">{{ v }}</th>{% endfor %}</tr>
{% for row in claims_matrix.rows %}<tr><td>{{ row.label }}</td>{% for cell in row.cells %}<td class="c">{% for text, cls, tip in cell %}<span class="badge {{ cls }}" title="{{ tip }}">{{ text }}</span> {% endfor %}</td>{% endfor %}</tr>
{% endfor %}
</table>
<table>
<tr><th>published finding</th><th class="num">agrees</th>{% if has_control %}<th class="num">of which survive the control</th>{% endif %}<th class="num">disagrees</th><th class="num">not significant</th><th class="num">too few items</th><th class="num">not measured</th></tr>
{% for r in claims_tally %}<tr><td>{{ r.claim_text }}</td><td class="num">{{ r.agrees }}</td>
{% if has_control %}<td class="num">{{ r.survives }}</td>{% endif %}<td class="num">{{ r.disagrees }}</td><td class="num">{{ r.not_significant }}</td><td class="num">{{ r.too_few }}</td><td class="num">{{ r.not_measured }}</td></tr>{% endfor %}
</table>
{% for group in claims_groups %}
<details><summary>{{ group.title }}: every measure ({{ group.rows|length }})</summary>
<table>
<tr><th>model</th><th>induced value</th><th>measure</th><th>study</th><th class="num">our effect vs base [95% CI]</th>
<th class="num">q</th><th>basis</th><th>status</th>{% if has_control %}<th class="num">vs control [95% CI]</th><th>status vs control</th>{% endif %}</tr>
{% for r in group.rows %}<tr{% if r.significant %} class="sig"{% endif %}><td>{{ r.model }}</td><td>{{ r.induced_value }}</td>
<td>{{ r.target }}</td><td>{{ r.expected }}</td><td class="num eff">{{ r.effect_ci }}</td><td class="num">{{ r.q }}</td>
<td>{{ r.basis }}</td><td><span class="badge {{ r.status_class }}">{{ r.status }}</span></td>{% if has_control %}
<td class="num">{{ r.effect_ci_control }}</td><td><span class="badge {{ r.status_control_class }}">{{ r.status_control }}</span></td>{% endif %}</tr>{% endfor %}
</table></details>
{% endfor %}
{% else %}<p class="skipped">No effects match the published claims (no value, refusal, anthropomorphism or QA suites).</p>{% endif %}
</section>

{% for section in figure_sections %}
<section id="{{ section.id }}">
<h2>{{ section.title }}</h2>
{% if section.intro %}<p class="note">{{ section.intro }}</p>{% endif %}
{{ body(section) }}
</section>
{% endfor %}

<section id="effects">
<h2>Effect tables</h2>
<p class="note">All numbers x100. Reference (the base model or the control adapter) and induced are means over
the paired items; seed sd is the standard deviation of the per-seed effects. Full table: <code>report/effects.csv</code> and <code>report/effects.parquet</code>.</p>
{% for t in effect_tables %}
<details{% if t.open %} open{% endif %}><summary>{{ t.title }} ({{ t.rows|length }} rows)</summary>{{ table(t) }}</details>
{% else %}<p class="skipped">No effects could be computed (no base-model rows paired with induced rows).</p>{% endfor %}
</section>

<section id="samples">
<h2>Sample generations, base vs induced</h2>
<p class="note">Items chosen where the measured outcome changed most (first seed). Model text is shown verbatim, as text.</p>
{% for s in samples %}
<div class="sample">
<div class="meta">{{ s.model }} &middot; induced <b>{{ s.induced_value }}</b> (seed {{ s.seed }}) &middot; {{ s.suite }} &middot;
item {{ s.item_id }}{% if s.changes %} &middot; {{ s.changes|join("; ") }}{% endif %}</div>
<div class="prompt"><b>Prompt:</b> {{ s.prompt }}</div>
<div class="pair"><div class="gen"><h4>base model</h4>{{ s.base_response }}</div>
<div class="gen"><h4>induced: {{ s.induced_value }}</h4>{{ s.induced_response }}</div></div>
</div>
{% else %}<p class="skipped">No generations found (evaluate/items.parquet is absent or empty).</p>{% endfor %}
</section>

{% for section in late_sections %}
<section id="{{ section.id }}">
<h2>{{ section.title }}</h2>
{% if section.intro %}<p class="note">{{ section.intro }}</p>{% endif %}
{{ body(section) }}
{% for p in section.pre %}<details><summary>{{ p.title }}</summary><pre>{{ p.text }}</pre></details>{% endfor %}
</section>
{% endfor %}
</main>
</body>
</html>
"""

TABLE_MACRO = r"""{% macro table(t) -%}
{% if not t.rows and t.empty %}<p class="skipped">{{ t.empty }}</p>{% else %}
<table>
<tr>{% for c in t.columns %}<th{% if c in t.numeric %} class="num"{% endif %}>{{ c }}</th>{% endfor %}</tr>
{% for r in t.rows %}<tr{% if t.highlight and t.highlight[loop.index0] %} class="sig"{% endif %}>{% for c in t.columns %}<td{% if c in t.numeric %} class="num{% if c == t.emphasis %} eff{% endif %}"{% endif %}>{{ r[loop.index0] }}</td>{% endfor %}</tr>
{% endfor %}
</table>{% endif %}
{%- endmacro %}
{% macro body(section) -%}
{% for f in section.figures %}
<figure><img src="data:image/png;base64,{{ f.png_b64 }}" alt="{{ f.title }}">
<figcaption>{{ f.caption }} Files: <code>figures/{{ f.name }}.png</code>, <code>figures/{{ f.name }}.svg</code>.</figcaption></figure>
{% endfor %}
{% for s in section.skipped %}<p class="skipped">{{ s }}</p>{% endfor %}
{% for t in section.tables %}{% if t.title %}<h3>{{ t.title }}</h3>{% endif %}{{ table(t) }}{% endfor %}
{%- endmacro %}"""
