// Growable typed-array columns: append-only, doubling, trimmed to length at the end.

type Typed = Float64Array | Float32Array | Int32Array | Uint32Array | Uint16Array;
type TypedCtor<T extends Typed> = { new (length: number): T };

export class Column<T extends Typed> {
  data: T;
  length = 0;
  constructor(
    private readonly ctor: TypedCtor<T>,
    capacity = 1024,
  ) {
    this.data = new ctor(capacity);
  }

  push(value: number): void {
    if (this.length === this.data.length) this.grow();
    this.data[this.length++] = value;
  }

  private grow(): void {
    const bigger = new this.ctor(this.data.length * 2);
    bigger.set(this.data as never);
    this.data = bigger;
  }

  /** The filled part (a copy of the right size, so that the spare capacity is freed). */
  done(): T {
    return this.data.slice(0, this.length) as T;
  }
}

/** Flat records of `width` numbers each. */
export class Records {
  private readonly column = new Column(Float64Array, 256);
  constructor(readonly width: number) {}
  push(...values: number[]): void {
    for (let i = 0; i < this.width; i++) this.column.push(values[i] ?? NaN);
  }
  done(): Float64Array {
    return this.column.done();
  }
}
