// The links page: create a short link through the API, then show its statistics.
(() => {
  const form = document.getElementById('shorten');
  const error = document.getElementById('error');
  const result = document.getElementById('result');
  const short = document.getElementById('short');
  const stats = document.getElementById('stats');
  let current = null;

  function showError(message) {
    error.textContent = message;
    error.hidden = false;
  }

  async function call(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error(data.detail || `request failed with status ${response.status}`);
    }
    return data;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    const body = { url: form.url.value.trim() };
    if (form.code.value.trim()) {
      body.code = form.code.value.trim();
    }
    try {
      const link = await call('POST', '/api/links', body);
      current = link.code;
      short.href = link.short;
      short.textContent = link.short;
      stats.hidden = true;
      result.hidden = false;
    } catch (e) {
      result.hidden = true;
      showError(e.message);
    }
  });

  document.getElementById('refresh').addEventListener('click', async () => {
    if (!current) return;
    try {
      const s = await call('GET', `/api/links/${encodeURIComponent(current)}`);
      document.getElementById('stats-url').textContent = s.url;
      document.getElementById('stats-created').textContent = new Date(s.created).toLocaleString();
      document.getElementById('stats-clicks').textContent = String(s.clicks);
      stats.hidden = false;
    } catch (e) {
      showError(e.message);
    }
  });
})();
