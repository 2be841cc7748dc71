// WebGL2 renderer: each tile is an R32F texture of data values; the fragment shader applies
// cuts, stretch (STRETCH_GLSL) and the colormap LUT, so changing them only redraws.
import type { Tile } from "../tiles/cache";
import { STRETCH_GLSL, STRETCH_IDS } from "./stretch";
import type { DisplayState, Rect, Renderer, Rgba } from "./types";

const VERTEX = `#version 300 es
in vec2 a_pos;
uniform vec4 u_rect;
uniform vec2 u_half;
uniform vec2 u_rot;
out vec2 v_uv;
void main() {
  v_uv = a_pos;
  // Turn about the canvas centre in pixel units (clip space is not square).
  vec2 p = mix(u_rect.xy, u_rect.zw, a_pos) * u_half;
  p = vec2(u_rot.x * p.x - u_rot.y * p.y, u_rot.y * p.x + u_rot.x * p.y);
  gl_Position = vec4(p / u_half, 0.0, 1.0);
}`;

const DATA_FRAGMENT = `#version 300 es
precision highp float;
precision highp int;
in vec2 v_uv;
uniform highp sampler2D u_tile;
uniform highp sampler2D u_cmap;
uniform float u_vmin;
uniform float u_vmax;
uniform vec4 u_nan;
${STRETCH_GLSL}
out vec4 outColor;
void main() {
  float v = texture(u_tile, v_uv).r;
  if (isnan(v) || !(v == v)) { outColor = u_nan; return; }
  float range = u_vmax > u_vmin ? u_vmax - u_vmin : 1e-30;
  float s = applyStretch((v - u_vmin) / range);
  s = (isnan(s) || !(s == s)) ? 0.0 : clamp(s, 0.0, 1.0);
  int idx = min(int(floor(s * 256.0)), 255);
  outColor = texelFetch(u_cmap, ivec2(idx, 0), 0);
}`;

const MASK_FRAGMENT = `#version 300 es
precision highp float;
in vec2 v_uv;
uniform highp sampler2D u_tile;
uniform vec4 u_color;
out vec4 outColor;
void main() {
  float m = texture(u_tile, v_uv).r;
  if (!(m > 0.0)) discard;
  outColor = vec4(u_color.rgb, u_color.a * clamp(m, 0.0, 1.0));
}`;

function compile(gl: WebGL2RenderingContext, vs: string, fs: string): WebGLProgram {
  const prog = gl.createProgram() as WebGLProgram;
  for (const [type, src] of [[gl.VERTEX_SHADER, vs], [gl.FRAGMENT_SHADER, fs]] as const) {
    const sh = gl.createShader(type) as WebGLShader;
    gl.shaderSource(sh, src);
    gl.compileShader(sh);
    if (!gl.getShaderParameter(sh, gl.COMPILE_STATUS)) throw new Error(`shader: ${gl.getShaderInfoLog(sh)}`);
    gl.attachShader(prog, sh);
  }
  gl.bindAttribLocation(prog, 0, "a_pos");
  gl.linkProgram(prog);
  if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) throw new Error(`program: ${gl.getProgramInfoLog(prog)}`);
  return prog;
}

function floatTexture(gl: WebGL2RenderingContext, w: number, h: number, data: Float32Array): WebGLTexture {
  const tex = gl.createTexture() as WebGLTexture;
  gl.bindTexture(gl.TEXTURE_2D, tex);
  gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
  gl.texImage2D(gl.TEXTURE_2D, 0, gl.R32F, w, h, 0, gl.RED, gl.FLOAT, data);
  for (const p of [gl.TEXTURE_MIN_FILTER, gl.TEXTURE_MAG_FILTER]) gl.texParameteri(gl.TEXTURE_2D, p, gl.NEAREST);
  for (const p of [gl.TEXTURE_WRAP_S, gl.TEXTURE_WRAP_T]) gl.texParameteri(gl.TEXTURE_2D, p, gl.CLAMP_TO_EDGE);
  return tex;
}

export class GlRenderer implements Renderer {
  readonly kind = "webgl2";
  private gl: WebGL2RenderingContext;
  private data: WebGLProgram;
  private mask: WebGLProgram;
  private cmapTex: WebGLTexture;
  private stretchTex: WebGLTexture;
  private lastLut: Uint8Array | null = null;
  private lastStretchLut: Float32Array | null = null;
  private textures = new Set<WebGLTexture>();
  private angle = 0;

  static create(canvas: HTMLCanvasElement): GlRenderer | null {
    const gl = canvas.getContext("webgl2", { alpha: false, antialias: false, preserveDrawingBuffer: true });
    if (!gl) return null;
    try {
      return new GlRenderer(gl);
    } catch (err) {
      console.warn("snapscope: WebGL2 setup failed, using canvas 2D", err);
      return null;
    }
  }

  private constructor(gl: WebGL2RenderingContext) {
    this.gl = gl;
    this.data = compile(gl, VERTEX, DATA_FRAGMENT);
    this.mask = compile(gl, VERTEX, MASK_FRAGMENT);
    const buf = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, buf);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([0, 0, 1, 0, 0, 1, 1, 1]), gl.STATIC_DRAW);
    gl.enableVertexAttribArray(0);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
    this.cmapTex = gl.createTexture() as WebGLTexture;
    this.stretchTex = floatTexture(gl, 2, 1, new Float32Array([0, 1]));
  }

  resize(width: number, height: number): void {
    const c = this.gl.canvas as HTMLCanvasElement;
    if (c.width !== width || c.height !== height) {
      c.width = width;
      c.height = height;
    }
    this.gl.viewport(0, 0, width, height);
  }

  clear([r, g, b, a]: Rgba): void {
    this.gl.clearColor(r / 255, g / 255, b / 255, a / 255);
    this.gl.clear(this.gl.COLOR_BUFFER_BIT);
    this.angle = 0;
  }

  private texture(tile: Tile): WebGLTexture {
    if (!tile.gpu) {
      const tex = floatTexture(this.gl, tile.width, tile.height, tile.values);
      this.textures.add(tex);
      tile.gpu = tex;
    }
    return tile.gpu as WebGLTexture;
  }

  private setRect(prog: WebGLProgram, [l, t, r, b]: Rect): void {
    const gl = this.gl;
    const c = gl.canvas as HTMLCanvasElement;
    const x = (px: number) => (px / c.width) * 2 - 1;
    const y = (py: number) => 1 - (py / c.height) * 2;
    gl.uniform4f(gl.getUniformLocation(prog, "u_rect"), x(l), y(b), x(r), y(t));
    gl.uniform2f(gl.getUniformLocation(prog, "u_half"), c.width / 2, c.height / 2);
    gl.uniform2f(gl.getUniformLocation(prog, "u_rot"), Math.cos(this.angle), Math.sin(this.angle));
  }

  rotate(angle: number): void {
    this.angle = angle;
  }

  private uploadLuts(d: DisplayState): void {
    const gl = this.gl;
    if (d.lut !== this.lastLut) {
      gl.bindTexture(gl.TEXTURE_2D, this.cmapTex);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, 256, 1, 0, gl.RGBA, gl.UNSIGNED_BYTE, d.lut);
      for (const p of [gl.TEXTURE_MIN_FILTER, gl.TEXTURE_MAG_FILTER]) gl.texParameteri(gl.TEXTURE_2D, p, gl.NEAREST);
      this.lastLut = d.lut;
    }
    const lut = d.stretch.lut;
    if (lut && lut !== this.lastStretchLut) {
      gl.deleteTexture(this.stretchTex);
      this.stretchTex = floatTexture(gl, lut.length, 1, lut);
      this.lastStretchLut = lut;
    }
  }

  drawTile(tile: Tile, rect: Rect, d: DisplayState): void {
    const gl = this.gl;
    const p = this.data;
    gl.useProgram(p);
    gl.disable(gl.BLEND);
    this.uploadLuts(d);
    const u = (n: string) => gl.getUniformLocation(p, n);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.texture(tile));
    gl.uniform1i(u("u_tile"), 0);
    gl.activeTexture(gl.TEXTURE1);
    gl.bindTexture(gl.TEXTURE_2D, this.cmapTex);
    gl.uniform1i(u("u_cmap"), 1);
    gl.activeTexture(gl.TEXTURE2);
    gl.bindTexture(gl.TEXTURE_2D, this.stretchTex);
    gl.uniform1i(u("u_stretchLut"), 2);
    gl.uniform1i(u("u_stretchLutSize"), d.stretch.lut ? d.stretch.lut.length : 2);
    gl.uniform1f(u("u_vmin"), d.vmin);
    gl.uniform1f(u("u_vmax"), d.vmax);
    gl.uniform1i(u("u_stretch"), STRETCH_IDS[d.stretch.name] ?? 0);
    gl.uniform2f(u("u_params"), d.stretch.params[0] ?? 0, d.stretch.params[1] ?? 0);
    gl.uniform4f(u("u_nan"), d.nan[0] / 255, d.nan[1] / 255, d.nan[2] / 255, d.nan[3] / 255);
    this.setRect(p, rect);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
  }

  drawMask(tile: Tile, rect: Rect, color: Rgba): void {
    const gl = this.gl;
    const p = this.mask;
    gl.useProgram(p);
    gl.enable(gl.BLEND);
    gl.blendFuncSeparate(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA, gl.ZERO, gl.ONE);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.texture(tile));
    gl.uniform1i(gl.getUniformLocation(p, "u_tile"), 0);
    gl.uniform4f(gl.getUniformLocation(p, "u_color"), color[0] / 255, color[1] / 255, color[2] / 255, color[3] / 255);
    this.setRect(p, rect);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
  }

  release(tile: Tile): void {
    if (tile.gpu) {
      this.gl.deleteTexture(tile.gpu as WebGLTexture);
      this.textures.delete(tile.gpu as WebGLTexture);
      tile.gpu = undefined;
    }
  }

  destroy(): void {
    for (const t of this.textures) this.gl.deleteTexture(t);
    this.textures.clear();
    this.gl.getExtension("WEBGL_lose_context")?.loseContext();
  }
}
