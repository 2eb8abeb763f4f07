// Export: the data as a file, a plot as SVG or PNG, code to the clipboard.

export function download(name, blob) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

export function downloadPlot(plot, format, base) {
  const id = plot.id;
  const svg = plot.querySelector('svg');
  if (!svg) return;
  const blob = new Blob([new XMLSerializer().serializeToString(svg)], { type: 'image/svg+xml' });
  if (format === 'svg') return download(`${base}-${id}.svg`, blob);
  const image = new Image();
  image.onload = () => {
    const scale = 2; // 192 dpi
    const canvas = document.createElement('canvas');
    canvas.width = image.width * scale;
    canvas.height = image.height * scale;
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
    canvas.toBlob((png) => download(`${base}-${id}.png`, png), 'image/png');
  };
  image.src = URL.createObjectURL(blob);
}

export async function copy(element, button) {
  try {
    await navigator.clipboard.writeText(element.textContent);
    button.textContent = 'Copied';
  } catch {
    button.textContent = 'Select the text below to copy it';
  }
}
