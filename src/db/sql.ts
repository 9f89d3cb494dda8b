/**
 * A timestamp as milliseconds since 1970, truncated (as pg's parser reads it): how a JSON
 * document carries a date, which `new Date(ms)` reads back without parsing text.
 */
export const epochMs = (column: string) => `floor(extract(epoch from ${column}) * 1000)::int8`;
