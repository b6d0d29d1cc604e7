// The change-stream panel: polls /api/stream, and sends an outside write (plain SQL on its own
// connection) so the cached post page can be watched refreshing.
const panel = document.querySelector('#stream')
const state = panel.querySelector('[data-stream-state]')

async function poll() {
  try {
    const s = await (await fetch('/api/stream')).json()
    state.textContent = !s.enabled
      ? 'off (start the demo on PostgreSQL with DEMO_CHANGE_STREAM=1)'
      : `${s.active ? 'active' : 'standby'} · lag ${s.lagBytes} bytes, ${s.lagMs} ms · ${s.transactions} transactions, ${s.tagsApplied} tags · ${s.errors} errors${s.lastError ? ` (${s.lastError})` : ''}`
  } catch {
    state.textContent = 'unreachable'
  }
}

panel.querySelector('form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const form = new FormData(event.target)
  const postId = Number(form.get('postId'))
  const response = await fetch('/api/stream/outside-write', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ postId, title: String(form.get('title')) }),
  })
  panel.querySelector('[data-stream-result]').textContent = response.ok
    ? `updated; open /prisma/posts/${postId} or /typeorm/posts/${postId}`
    : `failed: ${(await response.json()).error ?? response.status}`
})

setInterval(poll, 1000)
poll()
