// Start the NHS.UK frontend components (conditional reveals, header menu, error summary focus).
import { initAll } from './nhsuk/nhsuk-frontend.min.js'

initAll()
