// Drives headless Chromium over a served Tidings site and prints what it saw as JSON.
// Used by tests/cli/browser.rs, which makes the assertions.
//
//   node check.mjs BASE_URL SCREENSHOT.png ARTICLE_TITLE_WORD SEARCH_WORD
import { chromium } from 'playwright-core';

const [base, shot, articleWord, searchWord] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const report = { consoleErrors: [], failedRequests: [], badResponses: [] };
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (m) => { if (m.type() === 'error') report.consoleErrors.push(`${page.url()}: ${m.text()}`); });
  page.on('pageerror', (e) => report.consoleErrors.push(`${page.url()}: ${e}`));
  page.on('response', (r) => { if (r.status() >= 400) report.badResponses.push(`${r.status()} ${r.url()}`); });
  page.on('requestfailed', (r) => report.failedRequests.push(`${r.url()}: ${r.failure()?.errorText}`));

  await page.goto(base + '/', { waitUntil: 'networkidle' });
  report.indexTitle = await page.title();
  report.indexLinks = await page.$$eval('a', (as) => as.map((a) => a.textContent.trim()).filter(Boolean));

  const link = page.locator('a', { hasText: articleWord }).first();
  await link.click();
  await page.waitForLoadState('networkidle');
  report.articleUrl = page.url();
  report.articleHeading = await page.$eval('h1', (h) => h.textContent.trim());
  // Bring every lazy image into view, then wait for each to settle.
  report.images = await page.evaluate(async () => {
    const imgs = Array.from(document.images);
    for (const img of imgs) { img.scrollIntoView(); await new Promise((r) => setTimeout(r, 50)); }
    await Promise.all(imgs.map((img) => img.complete ? null :
      new Promise((r) => { img.addEventListener('load', r); img.addEventListener('error', r); })));
    return imgs.map((img) => ({ src: img.currentSrc || img.src, naturalWidth: img.naturalWidth,
      referrerpolicy: img.getAttribute('referrerpolicy'), width: img.getAttribute('width') }));
  });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: shot, fullPage: false });

  await page.goto(base + '/search/', { waitUntil: 'networkidle' });
  await page.fill('#q', searchWord);
  await page.waitForSelector('#search-results a', { timeout: 5000 });
  report.searchResults = await page.$$eval('#search-results a', (as) => as.map((a) => a.textContent.trim()));
} catch (e) {
  report.error = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
