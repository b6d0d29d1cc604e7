// The dashboard polls /api/metrics once a second and redraws. Chart is the global from Chart.js's
// UMD build, served by the demo from its node_modules.
/* global Chart */

const ORMS = ['prisma', 'typeorm']
const COLORS = { prisma: '#2d3748', typeorm: '#e8590c' }
const LIGHT = { prisma: '#a0aec0', typeorm: '#ffc078' }
const POLL_MS = 1000

const $ = (selector) => document.querySelector(selector)
const number = (value, digits = 0) =>
  Number(value).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
const percent = (ratio) => `${number(ratio * 100, 1)} %`
const clock = (t) => new Date(t).toLocaleTimeString('en-GB', { minute: '2-digit', second: '2-digit' })

function lineChart(canvas, datasets, yOptions = {}) {
  return new Chart(canvas, {
    type: 'line',
    data: { labels: [], datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      spanGaps: true,
      elements: { point: { radius: 0 } },
      scales: { y: { beginAtZero: true, ...yOptions } },
      plugins: { legend: { labels: { boxWidth: 12 } } },
    },
  })
}

const series = (label, color, extra = {}) => ({
  label,
  data: [],
  borderColor: color,
  backgroundColor: color,
  borderWidth: 2,
  ...extra,
})

const charts = {
  hitRatio: lineChart(
    $('#chart-hit-ratio'),
    [series('Prisma', COLORS.prisma), series('TypeORM', COLORS.typeorm)],
    {
      max: 100,
      ticks: { callback: (v) => `${v} %` },
    },
  ),
  queries: lineChart($('#chart-queries'), [
    series('Prisma: database', COLORS.prisma),
    series('Prisma: from cache', LIGHT.prisma, { borderDash: [6, 3] }),
    series('TypeORM: database', COLORS.typeorm),
    series('TypeORM: from cache', LIGHT.typeorm, { borderDash: [6, 3] }),
  ]),
  latency: lineChart($('#chart-latency'), [
    series('Prisma p50', COLORS.prisma),
    series('Prisma p99', LIGHT.prisma, { borderDash: [6, 3] }),
    series('TypeORM p50', COLORS.typeorm),
    series('TypeORM p99', LIGHT.typeorm, { borderDash: [6, 3] }),
  ]),
  scenario: new Chart($('#chart-scenario'), {
    type: 'bar',
    data: { labels: [], datasets: [{ label: 'database queries', data: [], backgroundColor: [] }] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: {
        y: {
          type: 'logarithmic',
          min: 1,
          title: { display: true, text: 'database queries (log scale)' },
          // One labelled tick per power of ten (1, 10, 100, …) instead of Chart.js's unlabelled minor ticks.
          afterBuildTicks: (axis) => {
            const ticks = []
            for (let value = 1; value <= Math.max(axis.max, 10); value *= 10) ticks.push({ value })
            axis.ticks = ticks
          },
          ticks: { callback: (value) => number(value) },
        },
      },
      plugins: { legend: { display: false } },
    },
  }),
}

// For the end-to-end test and for curious users poking at the console.
window.ormcacheDashboard = { charts, polls: 0 }

function renderTimeline(timeline) {
  const labels = timeline.map((p) => clock(p.t))
  const pick = (orm, field) => timeline.map((p) => p.orms[orm][field])
  charts.hitRatio.data.labels = labels
  ORMS.forEach((orm, i) => {
    charts.hitRatio.data.datasets[i].data = timeline.map((p) =>
      p.orms[orm].hitRatio === null ? null : p.orms[orm].hitRatio * 100,
    )
  })
  charts.queries.data.labels = labels
  charts.latency.data.labels = labels
  ORMS.forEach((orm, i) => {
    charts.queries.data.datasets[2 * i].data = pick(orm, 'dbQueries')
    charts.queries.data.datasets[2 * i + 1].data = pick(orm, 'cacheHits')
    charts.latency.data.datasets[2 * i].data = pick(orm, 'p50')
    charts.latency.data.datasets[2 * i + 1].data = pick(orm, 'p99')
  })
  for (const name of ['hitRatio', 'queries', 'latency']) charts[name].update('none')
}

function renderCards(metrics) {
  for (const key of [...ORMS, 'total']) {
    const m = key === 'total' ? metrics.total : metrics.orms[key]
    const rows = [
      ['hit ratio', percent(m.hitRatio)],
      ['requests', number(m.requests)],
      ['database queries', number(m.dbQueries)],
      ['served from cache', number(m.cacheHits)],
      ['cache misses', number(m.cacheMisses)],
      ['p50 / p99', `${number(m.latency.p50, 2)} / ${number(m.latency.p99, 2)} ms`],
      ['invalidations', number(m.invalidations)],
      ['cache errors', number(m.cacheErrors)],
    ]
    const dl = document.querySelector(`.card[data-orm="${key}"] dl`)
    dl.replaceChildren(
      ...rows.flatMap(([label, value]) => [
        element('dt', label),
        element('dd', value, { 'data-field': label }),
      ]),
    )
  }
}

function renderLists(metrics) {
  $('#invalidations').replaceChildren(
    ...metrics.invalidations.map((inv) =>
      element('li', null, {}, [
        `${clock(inv.at)} `,
        element('span', inv.orm, { class: `orm ${inv.orm}` }),
        ` ${inv.everything ? 'everything (cache cleared)' : inv.tags.join(', ')}`,
      ]),
    ),
  )
  const count = metrics.total.cacheErrors
  const badge = $('#error-count')
  badge.textContent = number(count)
  badge.className = count > 0 ? 'badge bad' : 'badge'
  $('#errors').replaceChildren(
    ...metrics.errors.map((err) =>
      element('li', null, {}, [
        `${clock(err.at)} `,
        element('span', err.orm, { class: `orm ${err.orm}` }),
        ` ${err.code} during ${err.operation}: ${err.message}`,
      ]),
    ),
  )
  const wb = metrics.writeBehind
  const rows = [
    ['queue', `${wb.queue}${wb.durable ? ' (durable)' : ' (in-process)'}`],
    ['views counted', number(wb.writes)],
    ['pending', wb.pending === null ? 'unknown (store down)' : number(wb.pending)],
    ['flushes', number(wb.flushes)],
    ['rows flushed', number(wb.flushedItems)],
    ['coalesced', number(wb.superseded)],
    ['sync fallbacks', number(wb.fallbacks)],
  ]
  $('#write-behind').replaceChildren(
    ...rows.flatMap(([label, value]) => [element('dt', label), element('dd', value)]),
  )
}

function renderScenario(state) {
  for (const button of document.querySelectorAll('#scenario-form button')) button.disabled = state.running
  const progress = $('#scenario-progress')
  progress.hidden = !state.running || state.progress === undefined
  if (state.running && state.progress) {
    const p = state.progress
    progress.querySelector('progress').value = (p.run - 1 + p.done / p.total) / p.runs
    progress.querySelector('span').textContent =
      `run ${p.run}/${p.runs}: ${p.orm}, cache ${p.cache}, ${number(p.done)} / ${number(p.total)} requests`
  }
  const error = $('#scenario-error')
  error.hidden = state.error === undefined || state.error === null
  error.textContent = state.error ?? ''
  $('#scenario-results tbody').replaceChildren(
    ...state.results.map((run) =>
      element(
        'tr',
        null,
        { class: `cache-${run.cache}`, 'data-orm': run.orm, 'data-cache': run.cache },
        [
          run.orm,
          run.cache,
          number(run.requests),
          number(run.dbQueries),
          percent(run.hitRatio),
          number(run.rps),
          number(run.p50, 2),
          number(run.p99, 2),
          number(run.failed),
        ].map((cell) => element('td', String(cell))),
      ),
    ),
  )
  const chart = charts.scenario
  chart.data.labels = state.results.map((r) => `${r.orm} / cache ${r.cache}`)
  chart.data.datasets[0].data = state.results.map((r) => Math.max(1, r.dbQueries))
  chart.data.datasets[0].backgroundColor = state.results.map((r) =>
    r.cache === 'on' ? LIGHT[r.orm] : COLORS[r.orm],
  )
  chart.update('none')
}

function element(tag, text, attributes = {}, children = []) {
  const node = document.createElement(tag)
  if (text !== null) node.textContent = text
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value)
  node.append(...children)
  return node
}

function render(metrics) {
  const { info } = metrics
  $('#info').textContent =
    `database ${info.database} · cache store ${info.store} · namespace "${info.namespace}"`
  renderCards(metrics)
  renderTimeline(metrics.timeline)
  renderLists(metrics)
  renderScenario(metrics.scenario)
}

async function poll() {
  try {
    const response = await fetch('/api/metrics')
    render(await response.json())
    window.ormcacheDashboard.polls += 1
    document.body.dataset.polls = String(window.ormcacheDashboard.polls)
  } catch (error) {
    $('#info').textContent = `cannot reach the demo (${error.message}); retrying…`
  } finally {
    setTimeout(poll, POLL_MS)
  }
}

async function post(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (!response.ok) {
    const problem = await response.json().catch(() => ({ error: { message: response.statusText } }))
    throw new Error(problem.error?.message ?? response.statusText)
  }
}

for (const button of document.querySelectorAll('#scenario-form button')) {
  button.addEventListener('click', async () => {
    const error = $('#scenario-error')
    error.hidden = true
    try {
      await post('/api/scenario', {
        cache: button.dataset.cache,
        orm: $('#scenario-orm').value,
        requests: Number($('#scenario-requests').value),
        concurrency: Number($('#scenario-concurrency').value),
      })
    } catch (e) {
      error.hidden = false
      error.textContent = e.message
    }
  })
}
$('#reset-metrics').addEventListener('click', () => post('/api/metrics/reset'))
$('#clear-cache').addEventListener('click', () => post('/api/cache/clear'))

// The page arrives with a snapshot inlined by the server: draw it now, then poll.
const initial = document.getElementById('initial-metrics')?.textContent
if (initial) {
  try {
    render(JSON.parse(initial))
    window.ormcacheDashboard.initialRender = true
  } catch {
    // A broken snapshot only costs the first second.
  }
}
poll()
