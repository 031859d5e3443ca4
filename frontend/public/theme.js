// Set the theme before first paint so a dark-mode user never sees a white flash. Loaded as a file by
// index.html: the Content-Security-Policy allows no inline script.
try {
  const saved = localStorage.getItem('learnflow.theme')
  const dark = saved ? saved === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches
  document.documentElement.classList.toggle('dark', dark)
} catch {}
