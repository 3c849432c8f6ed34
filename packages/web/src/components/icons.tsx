/**
 * Small inline SVG icons for glyphs that system fonts lack (emoji such as a
 * lock or a clock render as empty boxes on a bare Chromium). Decorative:
 * always beside words, hidden from assistive technology.
 */
const common = { width: '1em', height: '1em', viewBox: '0 0 16 16', 'aria-hidden': true, focusable: false, className: 'icon-svg' } as const;

export function LockIcon() {
  return (
    <svg {...common}>
      <rect x="3" y="7" width="10" height="8" rx="1.5" fill="currentColor" />
      <path d="M5 7V5a3 3 0 0 1 6 0v2" fill="none" stroke="currentColor" strokeWidth="1.6" />
    </svg>
  );
}

export function ClockIcon() {
  return (
    <svg {...common}>
      <circle cx="8" cy="8" r="6.3" fill="none" stroke="currentColor" strokeWidth="1.6" />
      <path d="M8 4.2V8l2.6 1.6" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" />
    </svg>
  );
}

export function GlobeIcon() {
  return (
    <svg {...common}>
      <circle cx="8" cy="8" r="6.3" fill="none" stroke="currentColor" strokeWidth="1.3" />
      <ellipse cx="8" cy="8" rx="2.8" ry="6.3" fill="none" stroke="currentColor" strokeWidth="1.3" />
      <path d="M1.7 8h12.6M2.6 4.8h10.8M2.6 11.2h10.8" stroke="currentColor" strokeWidth="1.1" />
    </svg>
  );
}

/** Three bars: the phone's navigation menu, closed. */
export function MenuIcon() {
  return (
    <svg {...common}>
      <path d="M2 4h12M2 8h12M2 12h12" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
    </svg>
  );
}

/** A cross: the phone's navigation menu, open (pressing closes it). */
export function CloseIcon() {
  return (
    <svg {...common}>
      <path d="M3.5 3.5l9 9M12.5 3.5l-9 9" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
    </svg>
  );
}

/** A printer: "Print / Save as PDF". */
export function PrinterIcon() {
  return (
    <svg {...common}>
      <path d="M4.5 6V1.8h7V6" fill="none" stroke="currentColor" strokeWidth="1.4" />
      <rect x="1.5" y="6" width="13" height="6" rx="1.2" fill="none" stroke="currentColor" strokeWidth="1.4" />
      <rect x="4.5" y="9.5" width="7" height="4.7" fill="#fff" stroke="currentColor" strokeWidth="1.4" />
    </svg>
  );
}
