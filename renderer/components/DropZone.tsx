import { useId, useRef, useState, type DragEvent } from 'react';
import { useTranslation } from 'react-i18next';

/** Drag-and-drop or a file picker to diagnose an image by hand (the original /predict). */
export function DropZone({ onFile, busy }: { onFile(file: File): void; busy: boolean }) {
  const { t } = useTranslation();
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const id = useId();

  function onDrop(e: DragEvent) {
    e.preventDefault();
    setOver(false);
    const file = e.dataTransfer.files[0];
    if (file) onFile(file);
  }

  return (
    <section
      className={over ? 'drop-zone drop-over' : 'drop-zone'}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
      aria-labelledby={id}
      data-testid="drop-zone"
    >
      <h3 id={id}>{t('live.dropTitle')}</h3>
      <p>{t('live.dropHint')}</p>
      <button type="button" onClick={() => input.current?.click()} disabled={busy}>
        {t('live.chooseFile')}
      </button>
      <input
        ref={input}
        type="file"
        accept="image/*,.tif,.tiff,.bmp"
        hidden
        data-testid="file-input"
        onChange={(e) => {
          const file = e.target.files?.[0];
          if (file) onFile(file);
          e.target.value = '';
        }}
      />
    </section>
  );
}
