// The business calendar moved to common/calendar.ts (the agent's backup check needs it too);
// this re-export keeps imports written against the old path working.
export * from '../../common/calendar.js'
