// Loaded as a classic script at the top of <body>, so it runs before the page is first
// drawn: it tells the NHS.UK styles and components that scripts run here. The NHS.UK page
// template does this with an inline <script>, which Kindly's Content-Security-Policy
// (script-src 'self') refuses; templates/base.html loads this file instead.
document.body.classList.add('js-enabled')
if ('noModule' in HTMLScriptElement.prototype) {
  document.body.classList.add('nhsuk-frontend-supported')
}
