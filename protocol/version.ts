// kanshi's release version, reported by both programs (agents send it in hello).
export const VERSION = '0.1.0'
